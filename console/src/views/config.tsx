/** Quotas, the mint allowlist and the remote client settings; every change asks for the one-time code. */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBox, Section, useLoad } from '../components/common';
import { withOtp } from '../components/otp';
import type { Allowlist, Quotas, SettingsRule } from '../types';

export function Config() {
  return (
    <>
      <h1>Quotas, allowlist and client settings</h1>
      <QuotasCard />
      <AllowlistCard />
      <SettingsCard />
    </>
  );
}

/** Runs a change with the code, keeps its error and a line saying it was saved. */
function useSave() {
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState<string>();
  const save = async <T,>(
    purpose: string,
    send: (otp: string | undefined) => Promise<T>,
    then: (value: T) => void,
  ) => {
    setError(undefined);
    setSaved(undefined);
    try {
      then(await withOtp(purpose, send, { askFirst: true }));
      setSaved(`Saved: ${purpose}.`);
    } catch (caught) {
      setError(caught);
    }
  };
  const status = (
    <>
      {saved && (
        <p class="ok" role="status">
          {saved}
        </p>
      )}
      <ErrorBox error={error} />
    </>
  );
  return { save, status };
}

function QuotasCard() {
  const quotas = useLoad(() => api<Quotas>('GET', 'quotas'), 'quotas');
  const [edits, setEdits] = useState<Record<string, string>>({});
  const { save, status } = useSave();
  const data = quotas.data;
  const submit = () => {
    const body: Record<string, number | null> = {};
    for (const [key, text] of Object.entries(edits)) body[key] = text.trim() === '' ? null : Number(text);
    return save(
      'change quotas',
      (otp) => api<Quotas>('PUT', 'quotas', { body, otp }),
      () => {
        setEdits({});
        quotas.reload();
      },
    );
  };
  return (
    <Section title="Quotas" id="quotas">
      <ErrorBox error={quotas.error} />
      {data && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          <p class="note">An empty override falls back to the default. 0 turns a quota off.</p>
          <table>
            <thead>
              <tr>
                <th scope="col">Quota</th>
                <th scope="col">Default</th>
                <th scope="col">Override</th>
                <th scope="col">In force</th>
              </tr>
            </thead>
            <tbody>
              {Object.keys(data.defaults).map((key) => (
                <tr key={key}>
                  <th scope="row">
                    <label for={`quota-${key}`}>{key}</label>
                  </th>
                  <td>{data.defaults[key]}</td>
                  <td>
                    <input
                      id={`quota-${key}`}
                      inputMode="numeric"
                      value={
                        edits[key] ?? (data.overrides[key] === undefined ? '' : String(data.overrides[key]))
                      }
                      onInput={(event) => setEdits({ ...edits, [key]: event.currentTarget.value })}
                    />
                  </td>
                  <td>{data.effective[key]}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="buttons">
            <button type="submit" class="primary" disabled={Object.keys(edits).length === 0}>
              Save quotas…
            </button>
          </div>
        </form>
      )}
      {status}
    </Section>
  );
}

function AllowlistCard() {
  const allowlist = useLoad(() => api<Allowlist>('GET', 'allowlist'), 'allowlist');
  const [text, setText] = useState<string>();
  const { save, status } = useSave();
  const data = allowlist.data;
  const put = (mintAllowCidrs: string[] | null, purpose: string) =>
    save(
      purpose,
      (otp) => api<Allowlist>('PUT', 'allowlist', { body: { mintAllowCidrs }, otp }),
      () => {
        setText(undefined);
        allowlist.reload();
      },
    );
  return (
    <Section title="Mint allowlist" id="allowlist">
      <ErrorBox error={allowlist.error} />
      {data && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const cidrs = (text ?? data.mintAllowCidrs.join('\n')).split(/[\s,]+/).filter(Boolean);
            void put(cidrs, 'change the mint allowlist');
          }}
        >
          <p class="note">
            In force from {data.source === 'override' ? 'an override set here' : 'the configuration'}.
            {data.mintAllowCidrs.length === 0 && ' No network is listed: any address may mint.'}
          </p>
          <label for="allowlist-cidrs">Networks allowed to mint (CIDRs, one a line)</label>
          <textarea
            id="allowlist-cidrs"
            rows={5}
            value={text ?? data.mintAllowCidrs.join('\n')}
            onInput={(event) => setText(event.currentTarget.value)}
          />
          <div class="buttons">
            <button type="submit" class="primary">
              Save allowlist…
            </button>
            {data.source === 'override' && (
              <button type="button" onClick={() => void put(null, 'go back to the configured allowlist')}>
                Use the configured list…
              </button>
            )}
          </div>
        </form>
      )}
      {status}
    </Section>
  );
}

function SettingsCard() {
  const settings = useLoad(() => api<{ rules: SettingsRule[] }>('GET', 'settings'), 'settings');
  const [text, setText] = useState<string>();
  const [parseError, setParseError] = useState<string>();
  const { save, status } = useSave();
  const data = settings.data;
  const shown = text ?? JSON.stringify(data?.rules ?? [], null, 2);
  return (
    <Section title="Remote client settings" id="settings">
      <ErrorBox error={settings.error} />
      {data && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            let rules: unknown;
            try {
              rules = JSON.parse(shown);
            } catch (error) {
              setParseError(`Not JSON: ${(error as Error).message}`);
              return;
            }
            setParseError(undefined);
            void save(
              'change the remote client settings',
              (otp) => api<{ rules: SettingsRule[] }>('PUT', 'settings', { body: { rules }, otp }),
              () => {
                setText(undefined);
                settings.reload();
              },
            );
          }}
        >
          <p class="note">
            Rules, most specific first:{' '}
            <code>{'{app, versions?, telemetry?: "on"|"off", sampleRate?, minClientVersion?}'}</code>
          </p>
          <label for="settings-rules">Rules (JSON)</label>
          <textarea
            id="settings-rules"
            class="mono"
            rows={8}
            value={shown}
            onInput={(event) => setText(event.currentTarget.value)}
          />
          {parseError && (
            <p class="error" role="alert">
              {parseError}
            </p>
          )}
          <div class="buttons">
            <button type="submit" class="primary">
              Save rules…
            </button>
          </div>
        </form>
      )}
      {status}
    </Section>
  );
}
