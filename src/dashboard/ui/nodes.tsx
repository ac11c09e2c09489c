/**
 * The nodes page: machines that registered themselves (`llmlb agent`), pending approval first,
 * with their runtime, GPUs and labels; admins approve (the node is then routed like any endpoint)
 * or reject (it is deleted). Reloaded whenever an endpoint changes.
 */
import { useState } from 'preact/hooks';
import type { NodeView } from '../../nodes/service.js';
import { ApiError, api } from './api.js';
import { Badge } from './endpoints.js';
import { useLive, useLoad, useSession, when } from './hooks.js';
import { Confirm } from './modal.js';

/** GPUs as people read them: `2 × NVIDIA L4 (22.5 GiB)`. */
function gpus(node: NodeView): string {
  if (node.gpus.length === 0) return 'none reported';
  const counts = new Map<string, number>();
  for (const gpu of node.gpus) {
    const key = `${gpu.model} (${(gpu.memory_mb / 1024).toFixed(1)} GiB)`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (n === 1 ? key : `${n} × ${key}`)).join(', ');
}

/** One node's row. */
function Row({ node, admin, act }: { node: NodeView; admin: boolean; act: (node: NodeView, action: 'approve' | 'reject') => void }) {
  const pending = node.admin_state === 'pending_approval';
  return (
    <tr data-node={node.name}>
      <td>
        <a href={`#/endpoints/${encodeURIComponent(node.endpoint_id)}`}>{node.name}</a>
        <div class="sub">{node.base_url}</div>
      </td>
      <td data-label="Admin state"><Badge value={node.admin_state} /></td>
      <td data-label="Status"><Badge value={node.status} /></td>
      <td data-label="Runtime">{node.runtime_type}{node.runtime_version ? ` ${node.runtime_version}` : ''}</td>
      <td data-label="GPUs">{gpus(node)}</td>
      <td data-label="Labels">{Object.entries(node.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '–'}</td>
      <td data-label="Registered">{when(node.registered_at)}</td>
      <td data-label="Last heartbeat">{when(node.last_heartbeat_at)}</td>
      {admin && (
        <td class="actions">
          {pending && (
            <>
              <button type="button" class="primary" onClick={() => act(node, 'approve')} aria-label={`Approve ${node.name}`}>Approve</button>
              <button type="button" class="danger" onClick={() => act(node, 'reject')} aria-label={`Reject ${node.name}`}>Reject</button>
            </>
          )}
        </td>
      )}
    </tr>
  );
}

/** The nodes page. */
export function NodesPage() {
  const { role } = useSession();
  const live = useLive();
  const admin = role === 'admin';
  const [message, setMessage] = useState('');
  const [rejecting, setRejecting] = useState<NodeView | null>(null);
  const [round, setRound] = useState(0);
  const nodes = useLoad(() => api<{ nodes: NodeView[] }>('GET', '/v0/nodes'), [live.endpoints, round]);
  const list = [...(nodes.value?.nodes ?? [])].sort((a, b) => Number(b.admin_state === 'pending_approval') - Number(a.admin_state === 'pending_approval'));
  const run = async (node: NodeView, action: 'approve' | 'reject') => {
    setMessage(`${node.name}: ${action}…`);
    await api('POST', `/v0/endpoints/${node.endpoint_id}/${action}`).then(
      () => setMessage(`${node.name}: ${action === 'approve' ? 'approved' : 'rejected'}`),
      (err: unknown) => setMessage(err instanceof ApiError ? `${node.name}: ${err.message}` : String(err)),
    );
    setRound((n) => n + 1);
  };
  const act = (node: NodeView, action: 'approve' | 'reject') => (action === 'reject' ? setRejecting(node) : void run(node, action));
  const pending = list.filter((n) => n.admin_state === 'pending_approval').length;

  return (
    <section aria-labelledby="nodes-title">
      <div class="page-head">
        <h1 id="nodes-title">Nodes</h1>
        <span class="sub">{pending} pending approval</span>
      </div>
      <p class="status-line" role="status" aria-live="polite">{message}</p>
      {nodes.error && <p class="error" role="alert">{nodes.error}</p>}
      {list.length === 0 ? (
        <p class="empty">No node has registered itself. Run `llmlb agent` on a machine with a registration token (a key of role node).</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Admin state</th><th scope="col">Status</th><th scope="col">Runtime</th>
              <th scope="col">GPUs</th><th scope="col">Labels</th><th scope="col">Registered</th><th scope="col">Last heartbeat</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {list.map((node) => <Row key={node.endpoint_id} node={node} admin={admin} act={act} />)}
          </tbody>
        </table>
      )}
      {rejecting && (
        <Confirm
          title={`Reject ${rejecting.name}?`}
          message="Its endpoint is deleted. An agent still running on it registers it again; stop the agent or revoke its registration token to keep it out."
          action="Reject"
          onAnswer={(yes) => {
            const node = rejecting;
            setRejecting(null);
            if (yes) void run(node, 'reject');
          }}
        />
      )}
    </section>
  );
}
