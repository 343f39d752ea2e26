// app.js — the resident portal's entry: loads the realm list, finishes a login at /callback,
// draws the header (who is logged in, languages, logout) and shows one view per route:
//   #/                 facility search          (search.js)
//   #/facility/{id}    a facility and its week   (facility.js)
//   #/booking/{id}     a booking: review, confirm, countdown (booking.js)
//   #/bookings         my bookings               (bookings.js)
//   #/library          book search and holds     (library.js)
//   #/holds            my book holds             (holds.js)
//   #/loans            my loans, with renewal    (loans.js)
//   #/login            choose the home city and log in
import * as auth from './auth.js';
import { focusHeading, h, replace } from './dom.js';
import { text } from './format.js';
import { lang, languages, onLanguageChange, setLang, t, uiLocale } from './i18n.js';
import { renderBookings } from './bookings.js';
import { renderBooking } from './booking.js';
import { renderFacility } from './facility.js';
import { renderHolds } from './holds.js';
import { renderLibrary } from './library.js';
import { renderLoans } from './loans.js';
import { renderSearch } from './search.js';

const REALM_KEY = 'renkei.realm'; // the city chosen last for login (not personal: a city)

let config = { realms: [] };
const header = document.getElementById('site-header');
const main = document.getElementById('main');

export const realms = () => config.realms;
export const realmByCode = (code) => config.realms.find((r) => r.code === code);
// A municipality's name as the hub's tenant list gives it (adapters may send their own).
export function cityName(ref) {
  const realm = ref && config.realms.find((r) => r.code === ref.code || r.slug === ref.slug);
  return realm ? text(realm.name) : text(ref?.name) || ref?.slug || '';
}

// Where the login button came from, to come back after the realm's login page.
let returnAfterLogin = '#/';

export function goLogin() {
  returnAfterLogin = location.hash.startsWith('#/login') ? '#/' : location.hash || '#/';
  location.hash = '#/login';
}

function renderHeader() {
  const who = auth.resident();
  const home = who && realmByCode(who.home);
  const route = location.hash || '#/';
  const navLink = (href, label) => h('a', { href, 'aria-current': route === href ? 'page' : false }, label);
  replace(header,
    h('div', { class: 'bar' },
      h('a', { class: 'brand', href: '#/' }, t('site_name')),
      h('nav', { 'aria-label': t('nav_label') },
        navLink('#/', t('nav_search')),
        navLink('#/bookings', t('nav_bookings')),
        navLink('#/library', t('nav_library')),
        navLink('#/holds', t('nav_holds')),
        navLink('#/loans', t('nav_loans'))),
      h('div', { class: 'langs', role: 'group', 'aria-label': t('language') },
        languages.map((l) => h('button', {
          type: 'button', lang: l.tag, 'aria-pressed': String(l.id === lang()),
          onclick: () => setLang(l.id),
        }, l.label)))),
    h('div', { class: 'who' }, who
      ? [h('p', { id: 'who' }, t('logged_in_as', { name: who.name, city: home ? text(home.name) : who.home })),
        h('button', { type: 'button', class: 'secondary', onclick: () => auth.logout(uiLocale()) }, t('logout'))]
      : [h('p', {}, t('not_logged_in')),
        h('button', { type: 'button', class: 'secondary', onclick: goLogin }, t('login'))]));
}

function renderLogin(root) {
  const choices = auth.loginRealms();
  const remembered = localStorage.getItem(REALM_KEY);
  if (!choices.length) {
    replace(root, h('h1', {}, t('login_title')), h('p', { class: 'alert' }, t('login_none')));
    return;
  }
  const form = h('form', {
    onsubmit: async (event) => {
      event.preventDefault();
      const slug = new FormData(form).get('realm');
      localStorage.setItem(REALM_KEY, slug);
      await auth.login(slug, returnAfterLogin, uiLocale());
    },
  },
  h('fieldset', {},
    h('legend', {}, t('login_choose_city')),
    choices.map((r, i) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'realm', value: r.slug, required: true, checked: remembered ? r.slug === remembered : i === 0 }),
      ' ', text(r.name)))),
  h('p', { class: 'hint' }, t('login_hint')),
  h('button', { type: 'submit' }, t('login_continue')));
  replace(root, h('h1', {}, t('login_title')), form);
}

const routes = [
  [/^#\/?$/, (root) => renderSearch(root)],
  [/^#\/facility\/([^/]+)$/, (root, id) => renderFacility(root, decodeURIComponent(id))],
  [/^#\/booking\/([^/]+)$/, (root, id) => renderBooking(root, decodeURIComponent(id))],
  [/^#\/bookings$/, (root) => renderBookings(root)],
  [/^#\/library$/, (root) => renderLibrary(root)],
  [/^#\/holds$/, (root) => renderHolds(root)],
  [/^#\/loans$/, (root) => renderLoans(root)],
  [/^#\/login$/, (root) => renderLogin(root)],
];

// Shows the route's view; a hash that is not a route (the skip link's "#main") changes nothing.
async function render({ focus = true } = {}) {
  const hash = location.hash || '#/';
  const route = routes.find(([pattern]) => pattern.test(hash));
  if (!route && hash.startsWith('#/')) {
    replace(main, h('h1', {}, t('not_found')), h('p', {}, h('a', { href: '#/' }, t('nav_search'))));
    return;
  }
  if (!route) return;
  renderHeader();
  await route[1](main, ...hash.match(route[0]).slice(1));
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} — ${t('site_name')}` : t('site_name');
  if (focus) focusHeading(main);
}

async function start() {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'ja';
  try {
    const res = await fetch('/api/v1/portal');
    if (!res.ok) throw new Error(String(res.status));
    config = await res.json();
  } catch {
    replace(main, h('h1', {}, t('site_name')), h('p', { class: 'alert', role: 'alert' }, t('hub_unreachable')));
    return;
  }
  auth.init(config);
  if (location.pathname === '/callback') {
    try {
      const next = await auth.completeLogin(new URLSearchParams(location.search));
      history.replaceState(null, '', `/${next}`);
    } catch (e) {
      history.replaceState(null, '', '/#/login');
      renderHeader();
      replace(main, h('h1', {}, t('login_title')),
        h('p', { class: 'alert', role: 'alert' }, t('login_failed', { why: e.message })),
        h('p', {}, h('a', { href: '#/' }, t('nav_search'))));
      return;
    }
  }
  window.addEventListener('hashchange', () => render());
  onLanguageChange(() => render({ focus: false }));
  await render({ focus: false });
}

start();
