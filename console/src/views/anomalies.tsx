/** What the anomaly rules did, with each rule's evidence, and undo (with the one-time code). */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBox, FactList, PageButtons, Section, useLoad, when } from '../components/common';
import { withOtp } from '../components/otp';
import type { AnomalyAction, AnomalyPage } from '../types';

const SHOWN = new Set([
  'actionId',
  'rule',
  'action',
  'subject',
  'reason',
  'state',
  'dryRun',
  'createdAt',
  'windowStart',
  'windowEnd',
  'tokenIds',
]);

export function Anomalies() {
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(
    () => api<AnomalyPage>('GET', 'anomalies', { query: { cursor, limit: 50 } }),
    cursor ?? '',
  );
  return (
    <>
      <h1>Anomaly actions</h1>
      <ErrorBox error={page.error} />
      {page.data && page.data.actions.length === 0 && <p class="note">No anomaly rule has acted.</p>}
      {page.data?.actions.map((action) => (
        <ActionCard key={action.actionId} action={action} onUndone={page.reload} />
      ))}
      <PageButtons cursors={cursors} setCursors={setCursors} nextCursor={page.data?.nextCursor} />
    </>
  );
}

function ActionCard({ action, onUndone }: { action: AnomalyAction; onUndone: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<string>();
  // What the rule saw, beyond the fields shown above it: the target, and whatever a rule adds.
  const evidence = Object.fromEntries(Object.entries(action).filter(([key]) => !SHOWN.has(key)));
  const undo = async () => {
    setError(undefined);
    try {
      const reply = await withOtp(
        `undo ${action.rule} (${action.actionId})`,
        (otp) =>
          api<unknown>('POST', `anomalies/${encodeURIComponent(action.actionId)}/undo`, {
            body: { reason },
            otp,
          }),
        { askFirst: true },
      );
      setResult(JSON.stringify(reply));
      onUndone();
    } catch (caught) {
      setError(caught);
    }
  };
  const facts: Array<[string, string | undefined]> = [
    ['When', when(action.createdAt)],
    ['Window', action.windowStart ? `${when(action.windowStart)} – ${when(action.windowEnd)}` : undefined],
    ['State', `${action.state ?? '—'}${action.dryRun ? ' (dry run: nothing was changed)' : ''}`],
    ['Reason', action.reason],
  ];
  return (
    <Section title={`${action.rule}: ${action.action}${action.subject ? ` ${action.subject}` : ''}`}>
      <FactList facts={facts}>
        {action.tokenIds && action.tokenIds.length > 0 && (
          <div>
            <dt>Tokens</dt>
            <dd>
              {action.tokenIds.map((id) => (
                <a key={id} class="mono chip" href={`#/tokens/${encodeURIComponent(id)}`}>
                  {id}
                </a>
              ))}
            </dd>
          </div>
        )}
      </FactList>
      <details>
        <summary>Evidence</summary>
        <pre>{JSON.stringify(evidence, null, 2)}</pre>
      </details>
      {action.state === 'applied' && !action.dryRun && (
        <div class="row">
          <div class="field grow">
            <label for={`undo-reason-${action.actionId}`}>Reason to undo (recorded in the audit trail)</label>
            <input
              id={`undo-reason-${action.actionId}`}
              value={reason}
              onInput={(event) => setReason(event.currentTarget.value)}
            />
          </div>
          <div class="buttons">
            <button type="button" onClick={undo}>
              Undo…
            </button>
          </div>
        </div>
      )}
      {result && (
        <p class="ok" role="status">
          Undone: {result}
        </p>
      )}
      <ErrorBox error={error} />
    </Section>
  );
}
