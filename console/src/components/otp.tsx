/**
 * The second factor, asked in the page: `withOtp` sends a change, asks for the one-time code in a modal
 * dialog first (operations the contract says need it) or when the broker answers `otp_required`, and asks
 * again, with the broker's words, after `otp_invalid`. Cancelling rejects with `Cancelled`.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, OTP_CODES } from '../api';

export class Cancelled extends Error {
  constructor() {
    super('Cancelled: nothing was changed.');
    this.name = 'Cancelled';
  }
}

interface Ask {
  purpose: string;
  problem?: string;
  answer: (code: string | undefined) => void;
}

let show: ((ask: Ask) => void) | undefined;

function askOtp(purpose: string, problem?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!show) return reject(new Error('The code dialog is not on the page.'));
    show({
      purpose,
      problem,
      answer: (code) => (code === undefined ? reject(new Cancelled()) : resolve(code)),
    });
  });
}

/**
 * @example await withOtp('revoke 12 tokens', (otp) => api('POST', 'bulk', { body, otp }), { askFirst: true });
 */
export async function withOtp<T>(
  purpose: string,
  send: (otp: string | undefined) => Promise<T>,
  options: { askFirst: boolean },
): Promise<T> {
  let code = options.askFirst ? await askOtp(purpose) : undefined;
  for (;;) {
    try {
      return await send(code);
    } catch (error) {
      if (!(error instanceof ApiError) || !OTP_CODES.has(error.code)) throw error;
      code = await askOtp(purpose, code === undefined ? undefined : error.message);
    }
  }
}

/** The dialog itself; the app renders one. */
export function OtpDialog() {
  const [ask, setAsk] = useState<Ask | undefined>();
  const [code, setCode] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    show = (next) => {
      setCode('');
      setAsk(next);
    };
    return () => {
      show = undefined;
    };
  }, []);
  useEffect(() => {
    if (ask && dialog.current && !dialog.current.open) dialog.current.showModal();
  }, [ask]);

  const close = (answer: string | undefined) => {
    dialog.current?.close();
    ask?.answer(answer);
    setAsk(undefined);
  };

  return (
    <dialog ref={dialog} class="otp" aria-labelledby="otp-title" onCancel={() => close(undefined)}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          close(code.trim());
        }}
      >
        <h2 id="otp-title">One-time code</h2>
        <p>
          To <strong>{ask?.purpose}</strong>, enter the current code from your authenticator app.
        </p>
        {ask?.problem && (
          <p class="error" role="alert">
            {ask.problem}
          </p>
        )}
        <label for="otp-code">Code</label>
        <input
          id="otp-code"
          name="otp"
          value={code}
          onInput={(event) => setCode(event.currentTarget.value)}
          inputMode="numeric"
          autocomplete="one-time-code"
          pattern="[0-9]{6}"
          maxLength={6}
          required
          autoFocus
        />
        <div class="buttons">
          <button type="submit" class="primary">
            Confirm
          </button>
          <button type="button" onClick={() => close(undefined)}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
