// Log in: name, password and the TOTP code of an authenticator app (or a recovery code).

import { api } from '../api.js';
import { errorText, h } from '../dom.js';

export function loginView(onLoggedIn) {
  const message = h('div');
  const form = h('form', { 'aria-label': 'Log in' },
    h('h1', {}, 'Log in'),
    h('label', {}, 'Name', h('input', { name: 'name', autocomplete: 'username', required: true })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('label', {}, 'TOTP code', h('input', { name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '\\d{6}' })),
    h('label', {}, 'or a recovery code', h('input', { name: 'recoveryCode', autocomplete: 'off' })),
    h('button', { type: 'submit' }, 'Log in'),
    message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(form));
    const body = { name: fields.name, password: fields.password };
    if (fields.totp) body.totp = fields.totp;
    if (fields.recoveryCode) body.recoveryCode = fields.recoveryCode;
    try {
      const { data } = await api('POST', '/session', body);
      onLoggedIn(data);
    } catch (error) {
      message.replaceChildren(errorText(error));
    }
  });
  return form;
}
