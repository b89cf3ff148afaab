/**
 * Bulk pause or revoke of every token the list's filter matches: a dry run counts them, the job is created
 * with the one-time code, then run page by page (`POST bulk/{jobId}/run`) with progress until done.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBox, Section } from '../components/common';
import { withOtp } from '../components/otp';
import type { BulkAction, BulkJob, TokenFilter } from '../types';

type Step = { at: 'start' } | { at: 'counted'; matched: number } | { at: 'running' | 'done'; job: BulkJob };

export function BulkPanel({ filter, onDone }: { filter: TokenFilter; onDone: () => void }) {
  const [action, setAction] = useState<BulkAction>('pause');
  const [reason, setReason] = useState('');
  const [step, setStep] = useState<Step>({ at: 'start' });
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const request = { action, filter, reason };

  const run = async (work: () => Promise<void>) => {
    setError(undefined);
    setBusy(true);
    try {
      await work();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const count = () =>
    run(async () => {
      const { matched } = await api<{ matched: number }>('POST', 'bulk', {
        body: { ...request, dryRun: true },
      });
      setStep({ at: 'counted', matched });
    });
  const confirm = (matched: number) =>
    run(async () => {
      let { job } = await withOtp(
        `${action} ${matched} tokens`,
        (otp) => api<{ job: BulkJob }>('POST', 'bulk', { body: request, otp }),
        { askFirst: true },
      );
      setStep({ at: 'running', job });
      while (!job.done) {
        ({ job } = await api<{ job: BulkJob }>('POST', `bulk/${encodeURIComponent(job.jobId)}/run`));
        setStep({ at: job.done ? 'done' : 'running', job });
      }
      setStep({ at: 'done', job });
      onDone();
    });
  const reset = () => setStep({ at: 'start' });
  const filterText =
    Object.entries(filter)
      .map(([key, value]) => `${key}=${value}`)
      .join(', ') || 'every token';

  return (
    <Section title="Bulk action on the filter" id="bulk">
      <p>
        Applies to <strong>{filterText}</strong>.
      </p>
      <div class="row">
        <div class="field">
          <label for="bulk-action">Action</label>
          <select
            id="bulk-action"
            value={action}
            onChange={(event) => {
              setAction(event.currentTarget.value as BulkAction);
              reset();
            }}
          >
            <option value="pause">pause</option>
            <option value="revoke">revoke</option>
          </select>
        </div>
        <div class="field grow">
          <label for="bulk-reason">Reason (recorded in the audit trail)</label>
          <input id="bulk-reason" value={reason} onInput={(event) => setReason(event.currentTarget.value)} />
        </div>
      </div>
      <div class="buttons">
        <button type="button" onClick={count} disabled={busy}>
          Count matching tokens (dry run)
        </button>
        {step.at === 'counted' && step.matched > 0 && (
          <button type="button" class="danger" onClick={() => confirm(step.matched)} disabled={busy}>
            {action === 'revoke' ? 'Revoke' : 'Pause'} {step.matched} tokens
          </button>
        )}
      </div>
      <div aria-live="polite" class="bulk-status">
        {step.at === 'counted' &&
          (step.matched === 0 ? (
            <p>No token matches: nothing to {action}.</p>
          ) : (
            <p>{step.matched} tokens match. Nothing has changed yet (dry run).</p>
          ))}
        {(step.at === 'running' || step.at === 'done') && (
          <div>
            <label for="bulk-progress">
              {step.at === 'done' ? 'Done' : 'Working'}: {step.job.processed} of {step.job.matched} processed,{' '}
              {step.job.changed} {action === 'revoke' ? 'revoked' : 'paused'}
            </label>
            <progress id="bulk-progress" value={step.job.processed} max={Math.max(step.job.matched, 1)} />
          </div>
        )}
      </div>
      <ErrorBox error={error} />
    </Section>
  );
}
