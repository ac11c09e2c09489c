/** `llmlb agent`'s pure parts: its flags and environment, and reading GPUs from nvidia-smi. */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../src/cli/agent-config.js';
import { CliUsageError, parseCliConfig } from '../../src/cli/config.js';
import { NO_GPUS, parseNvidiaSmi, readGpus } from '../../src/cli/gpu.js';

const TOKEN = 'a-registration-token-0123';
const REQUIRED = ['--router', 'http://127.0.0.1:32768/', '--base-url', 'http://127.0.0.1:11434'];

function usageError(run: () => unknown): CliUsageError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CliUsageError);
    return err as CliUsageError;
  }
  throw new Error('no usage error');
}

describe('llmlb agent flags', () => {
  it('parses the flags with their defaults; the token may come from the environment', () => {
    const parsed = parseCliConfig(['agent', ...REQUIRED], { LLMLB_NODE_REGISTRATION_TOKEN: TOKEN });
    expect(parsed).toEqual({
      command: 'agent',
      config: {
        router: 'http://127.0.0.1:32768',
        token: TOKEN,
        baseUrl: 'http://127.0.0.1:11434',
        name: hostname(),
        runtime: null,
        runtimeVersion: null,
        labels: {},
        intervalSecs: 15,
        logLevel: 'info',
        nvidiaSmi: 'nvidia-smi',
      },
    });
    const full = parseAgentConfig(
      [...REQUIRED, '--token', TOKEN, '--name', 'gpu-7', '--runtime', 'vllm', '--runtime-version', '0.6.1', '--label', 'zone=a', '--label', 'rack=3=b', '--interval', '5', '--log-level', 'warn'],
      { LLMLB_NVIDIA_SMI: '/opt/nvidia-smi' },
    );
    expect(full).toMatchObject({ name: 'gpu-7', runtime: 'vllm', runtimeVersion: '0.6.1', labels: { zone: 'a', rack: '3=b' }, intervalSecs: 5, logLevel: 'warn', nvidiaSmi: '/opt/nvidia-smi' });
    expect(parseCliConfig(['agent', '--help'], {})).toEqual({ command: 'help' });
  });

  it('refuses missing or bad values with one line that never repeats the token', () => {
    expect(usageError(() => parseAgentConfig(['--base-url', 'http://127.0.0.1:1', '--token', TOKEN], {})).message).toMatch(/--router .* is required/);
    expect(usageError(() => parseAgentConfig(REQUIRED, {})).message).toMatch(/--token .* is required/);
    const short = usageError(() => parseAgentConfig([...REQUIRED, '--token', 'short secret'], {}));
    expect(short.message).not.toContain('short secret');
    expect(usageError(() => parseAgentConfig([...REQUIRED, '--token', TOKEN, '--runtime', 'tgi'], {})).message).toMatch(/--runtime/);
    expect(usageError(() => parseAgentConfig([...REQUIRED, '--token', TOKEN, '--interval', '0'], {})).message).toMatch(/--interval/);
    expect(usageError(() => parseAgentConfig([...REQUIRED, '--token', TOKEN, '--label', 'no-equals'], {})).message).toMatch(/--label/);
    expect(usageError(() => parseAgentConfig(['--router', 'ftp://x', '--base-url', 'http://127.0.0.1:1', '--token', TOKEN], {})).message).toMatch(/--router/);
    expect(usageError(() => parseAgentConfig([...REQUIRED, '--token', TOKEN, '--port', '1'], {})).message).toBe('unknown option --port');
  });
});

describe('GPUs from nvidia-smi', () => {
  it('parses devices and their mean utilisation, skipping lines that do not fit', () => {
    expect(parseNvidiaSmi('NVIDIA A100-SXM4-80GB, 81920, 30\nNVIDIA A100-SXM4-80GB, 81920, 50\n')).toEqual({
      devices: [
        { model: 'NVIDIA A100-SXM4-80GB', memory_mb: 81920 },
        { model: 'NVIDIA A100-SXM4-80GB', memory_mb: 81920 },
      ],
      utilization: 0.4,
    });
    expect(parseNvidiaSmi('NVIDIA L4, 23034, [N/A]\ngarbage\n, 1, 2\nX, -5, 1\n')).toEqual({ devices: [{ model: 'NVIDIA L4', memory_mb: 23034 }], utilization: null });
    expect(parseNvidiaSmi('')).toEqual(NO_GPUS);
  });

  it('reads none when nvidia-smi is not installed or fails', async () => {
    expect(await readGpus('/nonexistent/nvidia-smi')).toEqual(NO_GPUS);
    expect(await readGpus('false')).toEqual(NO_GPUS);
  });
});
