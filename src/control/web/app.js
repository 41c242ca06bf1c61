// The web console: a page per hash route, drawn from the REST API, redrawn when the event
// stream says something changed.

import { api, ApiError } from './api.js';
import { errorText, h } from './dom.js';
import { loginView } from './views/login.js';
import { auditView, dataCentersView, hostsView, usersView } from './views/resources.js';
import { lunsView, networksView } from './views/storage.js';
import { vmsView, vmView } from './views/vms.js';
import { overviewView } from './views/overview.js';

const root = document.getElementById('app');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let cleanups = [];
let events = null;

const ROUTES = [
  [/^#\/?$/u, () => overviewView(root)],
  [/^#\/data-centers$/u, () => dataCentersView(root)],
  [/^#\/hosts$/u, () => hostsView(root)],
  [/^#\/vms$/u, () => vmsView(root)],
  [/^#\/vms\/([0-9a-f-]+)$/u, (m) => vmView(root, m[1], (fn) => cleanups.push(fn))],
  [/^#\/luns$/u, () => lunsView(root)],
  [/^#\/networks$/u, () => networksView(root)],
  [/^#\/users$/u, () => usersView(root)],
  [/^#\/audit$/u, () => auditView(root)],
];

async function show() {
  for (const fn of cleanups.splice(0)) fn();
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.getAttribute('href') === (location.hash || '#/'));
  const route = ROUTES.map(([pattern, view]) => [pattern.exec(location.hash || '#/'), view]).find(([m]) => m !== null);
  try {
    if (route === undefined) root.replaceChildren(h('p', {}, 'No such page.'));
    else await route[1](route[0]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return start();
    root.replaceChildren(errorText(error));
  }
}

function loggedIn(session) {
  nav.hidden = false;
  who.replaceChildren(`${session.user.name} `, h('button', { onclick: logOut }, 'Log out'));
  events?.close();
  events = new EventSource('/api/v1/events');
  let pending = null;
  // Live status: redraw lists when something changes (not the VM page, whose console would reset).
  events.onmessage = () => {
    if (/^#\/vms\/./u.test(location.hash)) return;
    clearTimeout(pending);
    pending = setTimeout(show, 300);
  };
  void show();
}

async function logOut() {
  await api('DELETE', '/session').catch(() => {});
  events?.close();
  location.hash = '#/';
  void start();
}

async function start() {
  try {
    const { data } = await api('GET', '/session');
    loggedIn(data);
  } catch {
    nav.hidden = true;
    who.replaceChildren();
    root.replaceChildren(loginView(loggedIn));
  }
}

window.addEventListener('hashchange', show);
void start();
