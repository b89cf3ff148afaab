/** One token: what the broker knows of it, pause / resume / revoke, and its chain's audit history. */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBox, FactList, Section, StatusBadge, useLoad, when } from '../components/common';
import { withOtp } from '../components/otp';
import type { AdminResult, AdminToken, TokenDetail } from '../types';

type Action = 'pause' | 'resume' | 'revoke';

export function TokenPage({ tokenId }: { tokenId: string }) {
  const detail = useLoad(() => api<TokenDetail>('GET', `tokens/${encodeURIComponent(tokenId)}`), tokenId);
  return (
    <>
      <p>
        <a href="#/tokens">← All tokens</a>
      </p>
      <h1>
        Token <span class="mono">{tokenId}</span>
      </h1>
      <ErrorBox error={detail.error} />
      {detail.data && (
        <>
          <Facts token={detail.data.token} />
          <Actions token={detail.data.token} onChanged={detail.reload} />
          <Section title="Audit history of its chain" id="audit">
            <AuditTable entries={detail.data.audit} />
          </Section>
        </>
      )}
    </>
  );
}

function Facts({ token }: { token: AdminToken }) {
  const rows: Array<[string, string | undefined]> = [
    ['App', `${token.app.name} ${token.app.version}`],
    ['Install id', token.installId],
    ['Platform', token.platform],
    ['Source', token.sourceIp && `${token.sourceIp} (${token.sourceNetwork ?? '?'})`],
    ['Created', when(token.createdAt)],
    ['Last seen', when(token.lastSeenAt)],
    ['Expires', when(token.expiresAt)],
    ['Token prefix (as Logfire shows it)', token.tokenPrefix],
    ['Chain', token.chainId],
    ['Reason', token.reason],
  ];
  return (
    <Section title="Token" id="facts">
      <p>
        Status: <StatusBadge status={token.status} />
      </p>
      <FactList facts={rows} />
    </Section>
  );
}

function Actions({ token, onChanged }: { token: AdminToken; onChanged: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const act = async (action: Action) => {
    setError(undefined);
    setDone(undefined);
    setConfirming(false);
    try {
      // Resuming what an anomaly rule stopped needs the code; the broker says so, and the page then asks.
      const result = await withOtp(
        `${action} token ${token.tokenId}`,
        (otp) =>
          api<AdminResult>('POST', `tokens/${encodeURIComponent(token.tokenId)}/${action}`, {
            body: { reason },
            otp,
          }),
        { askFirst: false },
      );
      setDone(
        `${action}: ${result.outcome.replace(/_/g, ' ')}${result.status ? `, now ${result.status}` : ''}`,
      );
      onChanged();
    } catch (caught) {
      setError(caught);
    }
  };
  const final = token.status === 'revoked' || token.status === 'expired' || token.status === 'superseded';
  return (
    <Section title="Actions" id="actions">
      <div class="field">
        <label for="action-reason">Reason (recorded in the audit trail)</label>
        <input id="action-reason" value={reason} onInput={(event) => setReason(event.currentTarget.value)} />
      </div>
      <div class="buttons">
        <button type="button" onClick={() => act('pause')} disabled={final || token.status === 'paused'}>
          Pause
        </button>
        <button type="button" onClick={() => act('resume')} disabled={final || token.status !== 'paused'}>
          Resume
        </button>
        {confirming ? (
          <>
            <button type="button" class="danger" onClick={() => act('revoke')}>
              Revoke now (cannot be undone)
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button type="button" class="danger" onClick={() => setConfirming(true)} disabled={final}>
            Revoke…
          </button>
        )}
      </div>
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
      <ErrorBox error={error} />
    </Section>
  );
}

function AuditTable({ entries }: { entries: TokenDetail['audit'] }) {
  if (entries.length === 0) return <p class="note">No entries.</p>;
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Actor</th>
            <th scope="col">Token</th>
            <th scope="col">Source IP</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry, index) => (
            <tr key={index}>
              <td>{when(entry.at)}</td>
              <td>{entry.action}</td>
              <td>{entry.actor}</td>
              <td class="mono">{entry.tokenId ?? '—'}</td>
              <td>{entry.sourceIp ?? '—'}</td>
              <td>{entry.reason ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
