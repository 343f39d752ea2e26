// library.js — one catalogue search over every city's library (LibraryService.SearchCatalogue:
// words or an ISBN), works merged across cities with availability per city and branch and, where
// the resident may not borrow, the rule that says so; a hold at an owning library for pickup at
// a branch the agreements allow (ListPickupBranches, PlaceHold), linking the library card there
// first when the owner asks for it (LinkPatron: the number and PIN go to the owner once).
import { call, newIdempotencyKey } from './api.js';
import { cityName, goLogin, realms } from './app.js';
import * as auth from './auth.js';
import { field, h, replace } from './dom.js';
import { name, statusList, text } from './format.js';
import { t } from './i18n.js';

const LIBRARY = { service: 'LibraryService' };

const state = {
  form: { words: '', isbn: '', city: '', availableOnly: false },
  answer: null, // {results, statuses, branchNames: "code branch-id" → LocalizedText}
  error: '',
  busy: false,
  reserving: null, // {workId, owner, branches, pickup, key, needCard, error, done}
};

const holdingStatus = (s) => t(`holding_${(s || '').replace('HOLDING_STATUS_', '')}`, {}, s);

function problems() {
  const f = state.form;
  if (!f.words && !f.isbn) return [['library-words', t('err_words_or_isbn')]];
  if (f.isbn && !/^[0-9Xx\- ]{10,17}$/.test(f.isbn)) return [['library-isbn', t('err_isbn')]];
  return [];
}

async function search(root) {
  const f = state.form;
  state.busy = true;
  state.error = '';
  state.reserving = null;
  draw(root);
  try {
    const answer = await call('SearchCatalogue', {
      keyword: f.words, isbn: f.isbn.replace(/[\s-]/g, ''), municipalities: f.city ? [f.city] : [],
      availableOnly: f.availableOnly, page: { pageSize: 20 },
    }, { ...LIBRARY, timeoutMs: 5000 });
    const branchNames = new Map((answer.branches || []).map((b) => [`${b.municipality?.code} ${b.branchId}`, b.name]));
    state.answer = { results: answer.results || [], statuses: answer.statuses || [], branchNames };
  } catch (e) {
    state.error = e.message;
  }
  state.busy = false;
  draw(root, { announce: true });
}

async function startReserve(root, workId, owner) {
  state.reserving = { workId, owner, branches: null, pickup: '', key: newIdempotencyKey(), needCard: false, error: '', done: null };
  if (!auth.resident()) {
    draw(root, { focus: 'reserve-panel' });
    return;
  }
  try {
    const answer = await call('ListPickupBranches', { owner }, { ...LIBRARY, login: true });
    state.reserving.branches = answer.branches || [];
  } catch (e) {
    state.reserving.error = e.message;
  }
  draw(root, { focus: 'reserve-panel' });
}

async function placeHold(root) {
  const r = state.reserving;
  const [municipality, branchId] = r.pickup.split('|');
  try {
    const answer = await call('PlaceHold', { workId: r.workId, owner: r.owner, pickupMunicipality: municipality, pickupBranchId: branchId },
      { ...LIBRARY, key: r.key, login: true });
    r.done = answer.hold;
    r.error = '';
    r.needCard = false;
  } catch (e) {
    if (e.reason === 'LIBRARY_ERROR_PATRON_NOT_LINKED') {
      r.needCard = true;
      r.error = '';
      r.key = newIdempotencyKey(); // the refusal is what this key answers now
    } else {
      r.error = e.message;
    }
  }
  draw(root, { focus: 'reserve-panel' });
}

async function linkCard(root, card, pin) {
  const r = state.reserving;
  try {
    await call('LinkPatron', { library: r.owner, cardNumber: card, pin }, { ...LIBRARY, key: newIdempotencyKey(), login: true });
  } catch (e) {
    r.error = e.message;
    draw(root, { focus: 'reserve-panel' });
    return;
  }
  r.needCard = false;
  await placeHold(root);
}

function reservePanel(root, work, owner) {
  const r = state.reserving;
  if (!r || r.workId !== work.id || r.owner !== owner.slug) return null;
  const body = [];
  if (!auth.resident()) {
    body.push(h('p', {}, t('login_to_reserve')), h('button', { type: 'button', onclick: goLogin }, t('login')));
  } else if (r.done) {
    body.push(h('p', { class: 'success', role: 'status' }, t('hold_placed', { state: t(`hold_${(r.done.state || '').replace('HOLD_STATE_', '')}`, {}, r.done.state) })),
      h('p', {}, h('a', { href: '#/holds' }, t('nav_holds'))));
  } else if (r.needCard) {
    const card = h('input', { type: 'text', id: 'card-number', inputmode: 'numeric', autocomplete: 'off', required: true, maxlength: '20' });
    const pin = h('input', { type: 'password', id: 'card-pin', autocomplete: 'off', required: true, maxlength: '16' });
    body.push(h('p', {}, t('card_needed', { city: cityName(owner) })),
      h('form', { onsubmit: (event) => { event.preventDefault(); linkCard(root, card.value.trim(), pin.value); } },
        field(t('card_number'), card, t('card_hint')), field(t('card_pin'), pin),
        h('button', { type: 'submit' }, t('link_and_reserve'))));
  } else if (r.branches) {
    const select = h('select', { id: 'pickup-branch', value: r.pickup },
      r.branches.map((b) => h('option', { value: `${b.municipality?.slug || b.municipality?.code}|${b.branchId}` }, `${cityName(b.municipality)}: ${text(b.name)}`)));
    body.push(r.branches.length
      ? h('form', { onsubmit: (event) => { event.preventDefault(); r.pickup = select.value; placeHold(root); } },
        field(t('pickup_branch'), select, t('pickup_hint')),
        h('button', { type: 'submit' }, t('reserve_confirm')))
      : h('p', {}, t('no_pickup')));
  } else if (!r.error) {
    body.push(h('p', {}, t('loading')));
  }
  return h('div', { id: 'reserve-panel', class: 'panel', tabindex: '-1' },
    h('h4', {}, t('reserve_at', { city: cityName(owner) })),
    r.error ? h('p', { class: 'alert', role: 'alert' }, r.error) : null,
    body);
}

// A search answer names each branch once (its branches) and lists the first holdings of a city
// (holdingsTotal counts them all).
function availabilityItem(root, work, a) {
  const owner = a.library || {};
  const holdings = (a.holdings || []).filter((x) => x.status !== 'HOLDING_STATUS_NOT_HELD');
  const branchName = (x) => text(x.branchName || state.answer?.branchNames.get(`${owner.code} ${x.branchId}`)) || x.branchId;
  const unlisted = (a.holdingsTotal || 0) - (a.holdings || []).length;
  return h('li', { class: 'availability' },
    h('p', {}, h('strong', {}, cityName(owner)), ' ', t('copies', { available: a.availableCount || 0, total: a.totalCount || 0 })),
    !a.mayBorrow ? h('p', { class: 'note' }, text(a.restriction) || t('may_not_borrow')) : null,
    holdings.length ? h('details', {},
      h('summary', {}, t('per_branch', { city: cityName(owner) })),
      h('ul', {}, holdings.map((x) => h('li', {}, `${branchName(x)}: ${holdingStatus(x.status)}`,
        x.dueDate ? ` (${t('due', { date: x.dueDate })})` : '', x.callNumber ? ` · ${x.callNumber}` : ''))),
      unlisted > 0 ? h('p', { class: 'note' }, t('more_copies', { n: unlisted })) : null) : null,
    a.mayBorrow && holdings.length
      ? h('button', { type: 'button', class: 'secondary', onclick: () => startReserve(root, work.id, owner.slug) }, t('reserve_at', { city: cityName(owner) }))
      : null,
    reservePanel(root, work, owner));
}

function workItem(root, result) {
  const w = result.work;
  const authors = (w.authors || []).map((a) => text(a.name)).filter(Boolean).join('、');
  return h('li', { class: 'work' },
    h('h3', {}, name(w.title)),
    h('p', { class: 'lead' }, [authors, w.publisher, w.year ? String(w.year) : '', w.isbn13 ? `ISBN ${w.isbn13}` : ''].filter(Boolean).join(' · ')),
    h('ul', { class: 'availabilities' }, (result.availability || []).map((a) => availabilityItem(root, w, a))));
}

function form(root) {
  const f = state.form;
  const errors = state.error === 'invalid' ? problems() : [];
  const words = h('input', { type: 'text', id: 'library-words', name: 'words', value: f.words, maxlength: '200', autocomplete: 'off', 'aria-invalid': errors.length ? 'true' : false });
  const isbn = h('input', { type: 'text', id: 'library-isbn', name: 'isbn', value: f.isbn, inputmode: 'numeric', maxlength: '17', autocomplete: 'off', 'aria-invalid': errors.some(([id]) => id === 'library-isbn') ? 'true' : false });
  const city = h('select', { id: 'library-city', value: f.city }, h('option', { value: '' }, t('all_cities')), realms().map((r) => h('option', { value: r.slug }, text(r.name))));
  const available = h('input', { type: 'checkbox', id: 'library-available', checked: f.availableOnly });
  return h('form', {
    novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      Object.assign(f, { words: words.value.trim(), isbn: isbn.value.trim(), city: city.value, availableOnly: available.checked });
      if (problems().length) {
        state.error = 'invalid';
        draw(root, { focus: 'library-errors' });
        return;
      }
      search(root);
    },
  },
  errors.length ? h('div', { class: 'alert', role: 'alert', id: 'library-errors', tabindex: '-1' }, errors.map(([, msg]) => h('p', {}, msg))) : null,
  field(t('book_words'), words, t('book_words_hint')),
  field('ISBN', isbn, t('isbn_hint')),
  field(t('city'), city),
  h('label', { class: 'choice' }, available, ' ', t('available_only')),
  h('button', { type: 'submit', disabled: state.busy }, state.busy ? t('searching') : t('search')));
}

function draw(root, { announce = false, focus = null } = {}) {
  const a = state.answer;
  replace(root,
    h('h1', {}, t('library_title')),
    form(root),
    h('p', { class: 'live', role: 'status' }, state.busy ? t('searching') : announce && a ? t('found', { n: a.results.length }) : ''),
    state.error && state.error !== 'invalid' ? h('p', { class: 'alert', role: 'alert' }, t('search_failed', { why: state.error })) : null,
    a ? h('section', { 'aria-labelledby': 'library-results' },
      h('h2', { id: 'library-results' }, t('results')),
      statusList(a.statuses),
      a.results.length ? h('ol', { class: 'works' }, a.results.map((r) => workItem(root, r))) : h('p', {}, t('no_books'))) : null);
  if (focus) document.getElementById(focus)?.focus();
}

export function renderLibrary(root) {
  draw(root);
}
