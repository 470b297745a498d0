import { ApiClient, ApiError, saveKey } from './api.ts';
import { h, replace } from './dom.ts';

/** What a refused key means, in words a person can act on. */
export function keyProblemMessage(error: ApiError): string {
  if (error.status === 403) {
    return `This key cannot read: ${error.message}. Use a key with the "read" scope.`;
  }
  return `Normalcy refused this key: ${error.message}. Check it and enter it again.`;
}

/** A shell word: quoted when it holds anything but letters, digits and `_./-`. */
const shellWord = (text: string): string =>
  /^[\w./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;

/**
 * Where this server's keys are, and how to make a read-only one: the local server names its data directory
 * in the page (see dashboard/build.ts); a deployment's page names none.
 */
function whereKeysAre(): HTMLElement {
  const directory = document
    .querySelector<HTMLMetaElement>('meta[name=normalcy-data-directory]')
    ?.getAttribute('content');
  if (directory) {
    const keyFile = `${directory.replace(/\/+$/, '')}/api-key`;
    return h(
      'p',
      { class: 'muted', 'data-testid': 'where-keys-are' },
      'This server keeps its data in ',
      h('code', {}, directory),
      ': ',
      h('code', {}, 'npm start'),
      ' put its key in ',
      h('code', {}, keyFile),
      ', and ',
      h('code', {}, 'npm run demo'),
      ' printed a read key. Make a read-only one with ',
      h(
        'code',
        {},
        `NORMALCY_DATA_DIR=${shellWord(directory)} npm run keys -- create --name dashboard --scopes read`,
      ),
      '.',
    );
  }
  return h(
    'p',
    { class: 'muted', 'data-testid': 'where-keys-are' },
    'Make a read-only key with ',
    h(
      'code',
      {},
      'npm run keys -- create --name dashboard --scopes read --table <StateTableName> --secret <KeySecretArn>',
    ),
    " (the stack's outputs), or with an admin key through ",
    h('code', {}, 'POST /v1/keys'),
    '.',
  );
}

/**
 * Asks for a read key once; it is checked against the API, then kept in this browser (localStorage) and sent
 * as a Bearer token. `problem` explains why it is asked again (a refused or revoked key).
 */
export function showKeyForm(app: HTMLElement, onAccepted: () => void, problem?: string): void {
  const input = h('input', {
    type: 'password',
    name: 'key',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'nrm_…',
    'aria-label': 'API key',
    required: true,
  });
  const message = h(
    'p',
    { class: 'error', role: 'alert', id: 'key-error', hidden: problem === undefined },
    problem,
  );
  const button = h('button', { type: 'submit' }, 'Open the dashboard');
  const form = h('form', { class: 'key-form' }, input, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    try {
      await new ApiClient(key).get('/v1/series', { limit: 1 });
      saveKey(key);
      onAccepted();
    } catch (error) {
      message.hidden = false;
      message.textContent =
        error instanceof ApiError && error.isKeyProblem
          ? keyProblemMessage(error)
          : String((error as Error).message);
      button.disabled = false;
    }
  });
  replace(
    app,
    h(
      'section',
      { class: 'card narrow' },
      h('h1', {}, 'Enter a read key'),
      h(
        'p',
        {},
        'Normalcy needs an API key with the ',
        h('code', {}, 'read'),
        ' scope. It is kept in this browser only.',
      ),
      message,
      form,
      whereKeysAre(),
    ),
  );
  input.focus();
}
