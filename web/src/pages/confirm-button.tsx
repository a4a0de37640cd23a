import { useState } from 'preact/hooks';

/**
 * A button for an action that cannot be undone: the first click asks, in the page (no browser dialog), and only
 * "Confirm" acts. The question names what will happen.
 */
export function ConfirmButton({ label, question, onConfirm }: { label: string; question: string; onConfirm: () => Promise<void> }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking)
    return (
      <button type="button" class="danger" onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  const confirm = async (): Promise<void> => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return (
    <span class="confirm" role="group" aria-label={question}>
      <span>{question}</span>{' '}
      <button type="button" class="danger" disabled={busy} onClick={() => void confirm()}>
        Confirm
      </button>{' '}
      <button type="button" class="link" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** Runs a change and says how it went: the manager's own message when it refuses. */
export async function attempt(work: () => Promise<string>, setNotice: (text: string) => void, setError: (text: string) => void): Promise<void> {
  setNotice('');
  setError('');
  try {
    setNotice(await work());
  } catch (e) {
    setError((e as Error).message);
  }
}

/** The page's error and notice lines. */
export function Messages({ error, notice }: { error: string; notice: string }) {
  return (
    <>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {notice !== '' && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
    </>
  );
}
