/** The page's one dialog: confirming a write action, or asking for the token. */
import { byId } from './dom.js';

async function open(text: string, withToken: boolean): Promise<{ ok: boolean; token: string }> {
  const dialog = byId<HTMLDialogElement>('confirm');
  const input = byId<HTMLInputElement>('token-input');
  byId('confirm-text').textContent = text;
  byId('token-label').hidden = !withToken;
  input.value = '';
  dialog.returnValue = '';
  dialog.showModal();
  if (withToken) input.focus();
  await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  return { ok: dialog.returnValue === 'ok', token: input.value.trim() };
}

/** Asks to go ahead with `text`; true when the person said OK. */
export async function confirmAction(text: string): Promise<boolean> {
  return (await open(text, false)).ok;
}

/** Asks for the token; undefined when the person cancelled. */
export async function askToken(): Promise<string | undefined> {
  const answer = await open('This needs the token that `jobq dashboard` printed with its URL.', true);
  return answer.ok && answer.token !== '' ? answer.token : undefined;
}
