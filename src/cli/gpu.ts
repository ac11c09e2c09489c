/**
 * GPU facts for `llmlb agent`, from `nvidia-smi --query-gpu=... --format=csv` when it is
 * installed; none otherwise (a node needs no GPU).
 */
import { execFile } from 'node:child_process';

/** What the agent learned about the node's GPUs. */
export interface GpuReading {
  /** Each device: its model and memory in MiB. */
  devices: { model: string; memory_mb: number }[];
  /** Mean utilisation of the devices, from 0 to 1; null without devices. */
  utilization: number | null;
}

/** No GPU, or none that can be read. */
export const NO_GPUS: Readonly<GpuReading> = Object.freeze({ devices: [], utilization: null });

/** The arguments of the one `nvidia-smi` query. */
export const NVIDIA_SMI_ARGS = ['--query-gpu=name,memory.total,utilization.gpu', '--format=csv,noheader,nounits'] as const;

/**
 * Parses `nvidia-smi --query-gpu=name,memory.total,utilization.gpu --format=csv,noheader,nounits`
 * (lines such as `NVIDIA L4, 23034, 35`); lines that do not fit are skipped.
 *
 * @example
 * parseNvidiaSmi('NVIDIA L4, 23034, 35\n'); // { devices: [{ model: 'NVIDIA L4', memory_mb: 23034 }], utilization: 0.35 }
 */
export function parseNvidiaSmi(output: string): GpuReading {
  const devices: GpuReading['devices'] = [];
  const utilizations: number[] = [];
  for (const line of output.split('\n')) {
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length !== 3) continue;
    const [model, memory, utilization] = fields as [string, string, string];
    const memoryMb = Number(memory);
    if (model === '' || model.length > 200 || !Number.isInteger(memoryMb) || memoryMb < 0) continue;
    devices.push({ model, memory_mb: memoryMb });
    const percent = Number(utilization);
    if (utilization !== '' && Number.isFinite(percent) && percent >= 0 && percent <= 100) utilizations.push(percent / 100);
  }
  const utilization = utilizations.length === 0 ? null : utilizations.reduce((a, b) => a + b, 0) / utilizations.length;
  return { devices, utilization };
}

/**
 * Runs `command` (normally `nvidia-smi`) and parses what it prints; {@link NO_GPUS} when it is not
 * installed, fails or takes longer than 5 s. Never throws.
 */
export function readGpus(command: string): Promise<GpuReading> {
  return new Promise((resolve) => {
    execFile(command, [...NVIDIA_SMI_ARGS], { timeout: 5000, maxBuffer: 256 * 1024 }, (error, stdout) => {
      resolve(error ? NO_GPUS : parseNvidiaSmi(String(stdout)));
    });
  });
}
