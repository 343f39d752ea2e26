// search.js — facility search across every city: purpose (kind) with suggestions from
// ListFacilityKinds, a date and time window (free_within), near me (geolocation, asked only when
// chosen) or near a station or city hall, a city, the most the resident wants to pay per hour,
// accessibility; results with city, distance, the caller's price and the next free slot, a map,
// and every asked city's status — a city that did not answer is said, never hidden.
import { call, facilityKinds } from './api.js';
import { realms } from './app.js';
import { field, h, replace } from './dom.js';
import { addDays, dateTime, distance, jstDate, jstInstant, name, statusList, text, yen } from './format.js';
import { lang, t } from './i18n.js';
import { drawMap } from './map.js';
import { places } from './places.js';

const ACCESSIBILITY = ['WHEELCHAIR_ACCESSIBLE', 'ACCESSIBLE_TOILET', 'STEP_FREE', 'ELEVATOR',
  'ACCESSIBLE_PARKING', 'NURSING_ROOM', 'HEARING_LOOP'];
const PAGE_SIZE = 20;

const FORM_KEY = 'renkei.search'; // the form's last values, for this tab (survives the login redirect)

function savedForm() {
  try {
    return JSON.parse(sessionStorage.getItem(FORM_KEY) || '{}');
  } catch {
    return {};
  }
}

// The form's values and the last answer live across views and language changes; the values
// also across reloads of the tab. A date in the past is not kept.
const state = {
  form: {
    query: '', date: addDays(jstDate(new Date()), 1), from: '09:00', to: '21:00', minutes: '0',
    where: 'any', place: places[0].id, radius: '5000', city: '', maxFee: '', access: [], sort: '',
  },
  answer: null, // {results, statuses, nextPage, origin}
  error: '',
  busy: false,
};
const saved = savedForm();
for (const key of Object.keys(state.form)) {
  if (typeof saved[key] === typeof state.form[key] && !(key === 'access' && !Array.isArray(saved[key]))) state.form[key] = saved[key];
}
if (state.form.date < jstDate(new Date())) state.form.date = addDays(jstDate(new Date()), 1);

export const kindName = (kinds, kind) => text(kinds.find((k) => k.kind === kind)?.name) || '';

function readForm(form) {
  const data = new FormData(form);
  const f = state.form;
  for (const key of ['query', 'date', 'from', 'to', 'minutes', 'where', 'place', 'radius', 'city', 'maxFee', 'sort']) {
    f[key] = String(data.get(key) ?? '').trim();
  }
  f.access = data.getAll('access').map(String);
  sessionStorage.setItem(FORM_KEY, JSON.stringify(f));
}

// The form's problems, each naming its field; empty when the search can go.
function problems() {
  const f = state.form;
  const out = [];
  if (!/^\d{4}-\d{2}-\d{2}$/.test(f.date)) out.push(['search-date', t('err_date')]);
  if (!/^\d{2}:\d{2}$/.test(f.from) || !/^\d{2}:\d{2}$/.test(f.to) || f.from >= f.to) out.push(['search-to', t('err_time')]);
  if (f.maxFee && !/^\d{1,7}$/.test(f.maxFee)) out.push(['search-fee', t('err_fee')]);
  return out;
}

function where() {
  const f = state.form;
  if (f.where === 'place') {
    const p = places.find((x) => x.id === f.place) || places[0];
    return Promise.resolve({ latitude: p.latitude, longitude: p.longitude, title: text(p.name) });
  }
  if (f.where !== 'me') return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) reject(new Error(t('err_geo')));
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ latitude: pos.coords.latitude, longitude: pos.coords.longitude, title: t('you_are_here') }),
      () => reject(new Error(t('err_geo'))), { timeout: 10000, maximumAge: 60000 });
  });
}

async function search(root, pageToken) {
  const f = state.form;
  state.busy = true;
  state.error = '';
  draw(root);
  try {
    const origin = await where();
    const request = {
      query: f.query,
      municipalities: f.city ? [f.city] : [],
      accessibility: f.access.map((a) => `ACCESSIBILITY_FEATURE_${a}`),
      freeWithin: { start: jstInstant(f.date, f.from), end: jstInstant(f.date, f.to) },
      minFreeMinutes: Number(f.minutes),
      sort: f.sort || 'FACILITY_SORT_UNSPECIFIED',
      page: { pageSize: PAGE_SIZE, pageToken: pageToken || '' },
    };
    if (origin) {
      request.near = { latitude: origin.latitude, longitude: origin.longitude };
      request.radiusMeters = Number(f.radius);
    }
    if (f.maxFee) request.maxHourlyFee = { amount: f.maxFee };
    const answer = await call('SearchFacilities', request, { timeoutMs: 5000 });
    const previous = pageToken && state.answer ? state.answer.results : [];
    state.answer = {
      results: [...previous, ...(answer.results || [])],
      statuses: answer.statuses || [],
      nextPage: answer.page?.nextPageToken || '',
      origin,
    };
  } catch (e) {
    state.error = e.message;
  }
  state.busy = false;
  await draw(root, { announce: true });
}

function resultItem(match, index, kinds) {
  const f = match.facility;
  const terms = match.terms || {};
  const rows = [
    [t('city'), text(f.owner?.name)],
    [t('kind'), kindName(kinds, f.kind)],
    match.distanceMeters ? [t('distance'), distance(match.distanceMeters)] : null,
    [t('your_price'), terms.hourlyFeeFrom ? t('per_hour_from', { fee: yen(terms.hourlyFeeFrom) }) : t('price_unknown')],
    [t('next_free'), match.nextFreeSlotStart ? dateTime(match.nextFreeSlotStart) : t('none_in_window')],
  ].filter(Boolean);
  return h('li', { class: 'result' },
    h('span', { class: 'badge', 'aria-hidden': 'true' }, String(index + 1)),
    h('div', {},
      h('h3', {}, h('a', { href: `#/facility/${encodeURIComponent(f.id)}` }, name(f.name))),
      h('dl', {}, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      match.terms && !terms.eligible ? h('p', { class: 'note' }, text(terms.ineligibleReason) || t('not_eligible')) : null,
      !f.bookableViaHub ? h('p', { class: 'note' }, t('not_bookable_here')) : null));
}

function results(root, kinds) {
  const a = state.answer;
  if (!a) return null;
  const located = a.results.filter((m) => m.facility.location);
  const points = located.map((m) => ({
    latitude: m.facility.location.latitude || 0, longitude: m.facility.location.longitude || 0,
    label: a.results.indexOf(m) + 1, title: `${a.results.indexOf(m) + 1}. ${text(m.facility.name)}`,
  }));
  return h('section', { class: 'results', 'aria-labelledby': 'results-heading' },
    h('h2', { id: 'results-heading' }, t('results')),
    statusList(a.statuses),
    a.results.length
      ? [points.length ? h('figure', { class: 'map-wrap' }, drawMap(points, a.origin, t('map_caption', { n: points.length })),
        h('figcaption', {}, t('map_note'))) : null,
      h('ol', { class: 'result-list' }, a.results.map((m, i) => resultItem(m, i, kinds))),
      a.nextPage ? h('button', { type: 'button', class: 'secondary', onclick: () => search(root, a.nextPage) }, t('more')) : null]
      : h('p', {}, t('no_results')));
}

function form(root, kinds) {
  const f = state.form;
  const suggestions = h('datalist', { id: 'kind-suggestions' }, kinds.flatMap((k) => {
    const names = lang() === 'en' ? [k.name?.en] : [k.name?.ja, ...(k.synonyms || []).filter((s) => !/^[a-z ]+$/i.test(s))];
    return names.filter(Boolean).map((n) => h('option', { value: n }));
  }));
  const errors = problems().length && state.error === 'invalid' ? problems() : [];
  const input = (attrs) => h('input', { ...attrs, 'aria-invalid': errors.some(([id]) => id === attrs.id) ? 'true' : false });
  const placeSelect = h('select', { name: 'place', id: 'search-place', value: f.place },
    places.map((p) => h('option', { value: p.id }, text(p.name))));
  const radio = (value, label) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'where', value, checked: f.where === value }), ' ', label);
  const el = h('form', {
    class: 'search', novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      readForm(el);
      if (problems().length) {
        state.error = 'invalid';
        draw(root, { focusError: true });
        return;
      }
      search(root, '');
    },
  },
  errors.length ? h('div', { class: 'alert', role: 'alert', id: 'search-errors', tabindex: '-1' },
    h('p', {}, t('fix_these')), h('ul', {}, errors.map(([id, msg]) => h('li', {}, h('a', { href: `#${id}`, onclick: (e) => { e.preventDefault(); document.getElementById(id)?.focus(); } }, msg))))) : null,
  field(t('purpose'), input({ type: 'text', name: 'query', id: 'search-query', list: 'kind-suggestions', value: f.query, autocomplete: 'off', maxlength: '200' }), t('purpose_hint')),
  suggestions,
  h('div', { class: 'row' },
    field(t('date'), input({ type: 'date', name: 'date', id: 'search-date', value: f.date, required: true })),
    field(t('from'), input({ type: 'time', name: 'from', id: 'search-from', value: f.from, step: '1800' })),
    field(t('to'), input({ type: 'time', name: 'to', id: 'search-to', value: f.to, step: '1800' }))),
  field(t('min_free'), h('select', { name: 'minutes', id: 'search-minutes', value: f.minutes },
    [['0', t('any_length')], ['60', t('hours', { n: 1 })], ['120', t('hours', { n: 2 })], ['180', t('hours', { n: 3 })]]
      .map(([v, l]) => h('option', { value: v }, l)))),
  h('fieldset', {},
    h('legend', {}, t('where')),
    radio('any', t('where_any')),
    radio('me', t('where_me')),
    h('p', { class: 'hint' }, t('where_me_hint')),
    radio('place', t('where_place')),
    field(t('place'), placeSelect),
    field(t('radius'), h('select', { name: 'radius', id: 'search-radius', value: f.radius },
      [['2000', '2 km'], ['5000', '5 km'], ['10000', '10 km'], ['0', t('no_limit')]]
        .map(([v, l]) => h('option', { value: v }, l))))),
  field(t('city'), h('select', { name: 'city', id: 'search-city', value: f.city },
    h('option', { value: '' }, t('all_cities')),
    realms().map((r) => h('option', { value: r.slug }, text(r.name))))),
  field(t('max_fee'), input({ type: 'text', inputmode: 'numeric', name: 'maxFee', id: 'search-fee', value: f.maxFee, pattern: '[0-9]*', autocomplete: 'off' }), t('max_fee_hint')),
  h('fieldset', {},
    h('legend', {}, t('accessibility')),
    h('div', { class: 'checks' }, ACCESSIBILITY.map((a) => h('label', { class: 'choice' },
      h('input', { type: 'checkbox', name: 'access', value: a, checked: f.access.includes(a) }), ' ', t(`access_${a}`))))),
  field(t('sort'), h('select', { name: 'sort', id: 'search-sort', value: f.sort },
    [['', t('sort_relevance')], ['FACILITY_SORT_SOONEST', t('sort_soonest')], ['FACILITY_SORT_PRICE', t('sort_price')], ['FACILITY_SORT_DISTANCE', t('sort_distance')]]
      .map(([v, l]) => h('option', { value: v }, l)))),
  h('button', { type: 'submit', disabled: state.busy }, state.busy ? t('searching') : t('search')));
  return el;
}

async function draw(root, { announce = false, focusError = false } = {}) {
  let kinds = [];
  let kindsError = '';
  try {
    kinds = await facilityKinds();
  } catch (e) {
    kindsError = e.message;
  }
  const count = state.answer ? state.answer.results.length : 0;
  replace(root,
    h('h1', {}, t('search_title')),
    kindsError ? h('p', { class: 'alert' }, t('kinds_unavailable')) : null,
    form(root, kinds),
    h('p', { class: 'live', role: 'status' }, state.busy ? t('searching') : announce && !state.error ? t('found', { n: count }) : ''),
    state.error && state.error !== 'invalid' ? h('p', { class: 'alert', role: 'alert' }, t('search_failed', { why: state.error })) : null,
    results(root, kinds));
  if (focusError) document.getElementById('search-errors')?.focus();
  if (announce && state.answer) document.getElementById('results-heading')?.scrollIntoView({ block: 'start' });
}

export function renderSearch(root) {
  return draw(root);
}
