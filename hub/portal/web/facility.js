// facility.js — one facility: what it is (photos and rules where the owner gives them), what it
// costs this resident, and a week of its slots asked live from the owner (GetAvailability); an
// available slot can be held (HoldSlot), which leads to the booking's review (booking.js).
import { call, facilityKinds, newIdempotencyKey } from './api.js';
import { goLogin } from './app.js';
import * as auth from './auth.js';
import { field, h, replace, uid } from './dom.js';
import { addDays, clock, day, jstDate, jstInstant, name, statusLine, text, yen } from './format.js';
import { t } from './i18n.js';
import { kindName } from './search.js';

const DAYS = 7;
// Per facility: the week shown, the slot chosen, its key and what the resident typed.
const views = new Map();

function viewOf(id) {
  if (!views.has(id)) views.set(id, { weekStart: addDays(jstDate(new Date()), 1), slot: null, key: null, attendees: '1', purpose: '', error: '' });
  return views.get(id);
}

export function reasonText(error) {
  const reason = (error.reason || '').replace('BOOKING_ERROR_', '');
  const known = t(`reason_${reason}`, {}, null);
  return known || error.message;
}

function details(f) {
  const rows = [
    [t('address'), text(f.address?.text)],
    [t('capacity'), f.capacity ? t('people', { n: f.capacity }) : ''],
    [t('opening_hours'), text(f.openingHours)],
    [t('phone'), f.phone || ''],
  ].filter(([, v]) => v);
  return h('dl', { class: 'details' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function feeTable(f, terms) {
  const rates = f.fees?.rates || [];
  const dayNames = (types) => (types?.length ? types.map((d) => t(`day_${d.replace('DAY_TYPE_', '')}`)).join('・') : t('every_day'));
  return h('section', { 'aria-labelledby': 'fees-heading' },
    h('h2', { id: 'fees-heading' }, t('fees')),
    h('p', {}, terms?.hourlyFeeFrom ? t('your_price_is', { fee: yen(terms.hourlyFeeFrom), cls: t(`class_${(terms.residencyClass || 'RESIDENCY_CLASS_OUTSIDER').replace('RESIDENCY_CLASS_', '')}`) }) : t('price_unknown')),
    rates.length ? h('div', { class: 'scroll' }, h('table', {},
      h('caption', {}, t('fee_table')),
      h('thead', {}, h('tr', {}, [t('band'), t('days'), t('hours_col'), t('resident_fee'), t('non_resident_fee')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rates.map((r) => h('tr', {},
        h('th', { scope: 'row' }, text(r.label) || t('band_unnamed')),
        h('td', {}, dayNames(r.dayTypes)),
        h('td', {}, `${r.startTime || '00:00'}–${r.endTime || '24:00'}`),
        h('td', {}, t('per_unit', { fee: yen(r.residentFee), n: r.unitMinutes })),
        h('td', {}, t('per_unit', { fee: yen(r.nonResidentFee), n: r.unitMinutes }))))))) : null,
    f.fees?.notes ? h('p', {}, text(f.fees.notes)) : null);
}

function about(f, kinds) {
  const photos = f.photoUrls || [];
  return [
    h('p', { class: 'lead' }, `${text(f.owner?.name)} · ${kindName(kinds, f.kind)}`),
    f.description ? h('p', {}, text(f.description)) : null,
    details(f),
    f.accessibility?.length || f.accessibilityNotes ? h('section', { 'aria-labelledby': 'access-heading' },
      h('h2', { id: 'access-heading' }, t('accessibility')),
      h('ul', {}, (f.accessibility || []).map((a) => h('li', {}, t(`access_${a.replace('ACCESSIBILITY_FEATURE_', '')}`, {}, a)))),
      f.accessibilityNotes ? h('p', {}, text(f.accessibilityNotes)) : null) : null,
    h('section', { 'aria-labelledby': 'rules-heading' },
      h('h2', { id: 'rules-heading' }, t('rules')),
      f.usageRules ? h('p', {}, text(f.usageRules)) : h('p', {}, t('no_rules')),
      f.bookingWindow ? h('p', {}, t('window_rule', {
        days: f.bookingWindow.opensDaysBefore || 0, hours: f.bookingWindow.closesHoursBefore || 0,
        cancel: f.bookingWindow.cancellationClosesHoursBefore || 0,
      })) : null,
      f.lottery ? h('p', {}, t('lottery'), ' ', text(f.lotteryNotes)) : null),
    photos.length || f.websiteUrl ? h('section', { 'aria-labelledby': 'links-heading' },
      h('h2', { id: 'links-heading' }, t('photos_links')),
      h('ul', {},
        photos.map((url, i) => h('li', {}, h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, t('photo_n', { n: i + 1 })))),
        f.websiteUrl ? h('li', {}, h('a', { href: f.websiteUrl, rel: 'noopener noreferrer', target: '_blank' }, t('website'))) : null),
      photos.length ? h('p', { class: 'hint' }, t('photos_hint')) : null) : null,
  ];
}

function slotCell(v, s, redraw) {
  const status = (s.status || '').replace('SLOT_STATUS_', '');
  const label = `${clock(s.time.start)}–${clock(s.time.end)}`;
  if (status !== 'AVAILABLE') {
    return h('li', { class: `slot ${status.toLowerCase()}` }, `${label} `, h('span', {}, t(`slot_${status}`, {}, status)));
  }
  const chosen = v.slot && v.slot.time.start === s.time.start && v.slot.time.end === s.time.end;
  return h('li', { class: 'slot available' }, h('button', {
    type: 'button', class: 'slot-button', 'aria-pressed': String(Boolean(chosen)),
    onclick: () => { v.slot = s; v.key = newIdempotencyKey(); v.error = ''; redraw({ focus: 'hold-form' }); },
  }, `${label} ${t('slot_AVAILABLE')}`, s.fee ? ` ${yen(s.fee)}` : ''));
}

function weekGrid(v, answer, redraw) {
  const slots = answer.facilities?.[0]?.slots || [];
  const byDay = new Map();
  for (let i = 0; i < DAYS; i++) byDay.set(addDays(v.weekStart, i), []);
  for (const s of slots) byDay.get(jstDate(new Date(s.time.start)))?.push(s);
  const last = addDays(v.weekStart, DAYS - 1);
  return h('div', { class: 'scroll' }, h('table', { class: 'week' },
    h('caption', {}, t('week_caption', { from: day(jstInstant(v.weekStart, '12:00')), to: day(jstInstant(last, '12:00')) })),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('date')), h('th', { scope: 'col' }, t('slots')))),
    h('tbody', {}, [...byDay].map(([date, list]) => h('tr', {},
      h('th', { scope: 'row' }, day(jstInstant(date, '12:00'))),
      h('td', {}, list.length ? h('ul', { class: 'slots' }, list.map((s) => slotCell(v, s, redraw))) : t('no_slots')))))));
}

function holdForm(id, f, terms, v, redraw) {
  if (!v.slot) return null;
  const range = `${day(v.slot.time.start)} ${clock(v.slot.time.start)}–${clock(v.slot.time.end)}`;
  if (!auth.resident()) {
    return h('section', { id: 'hold-form', class: 'panel', tabindex: '-1', 'aria-labelledby': 'hold-heading' },
      h('h2', { id: 'hold-heading' }, t('chosen_slot', { range })),
      h('p', {}, t('login_to_book')),
      h('button', { type: 'button', onclick: goLogin }, t('login')));
  }
  const attendees = h('input', { type: 'number', id: 'hold-attendees', name: 'attendees', min: '1', max: f.capacity || '999', value: v.attendees, required: true, inputmode: 'numeric' });
  const purpose = h('input', { type: 'text', id: 'hold-purpose', name: 'purpose', maxlength: '200', value: v.purpose, autocomplete: 'off' });
  const errorId = uid('hold-error');
  const form = h('form', {
    onsubmit: async (event) => {
      event.preventDefault();
      v.attendees = attendees.value.trim();
      v.purpose = purpose.value.trim();
      const n = Number(v.attendees);
      if (!Number.isInteger(n) || n < 1 || (f.capacity && n > f.capacity)) {
        v.error = t('err_attendees', { max: f.capacity || 999 });
        redraw({ focus: 'hold-attendees' });
        return;
      }
      try {
        const answer = await call('HoldSlot', {
          facilityId: id, time: v.slot.time, slotId: v.slot.slotId || '', attendees: n, purpose: v.purpose,
        }, { key: v.key, login: true });
        v.slot = null;
        location.hash = `#/booking/${encodeURIComponent(answer.booking.id)}`;
      } catch (e) {
        v.error = reasonText(e);
        redraw({ focus: 'hold-form' });
      }
    },
  },
  v.error ? h('p', { class: 'alert', role: 'alert', id: errorId }, v.error) : null,
  field(t('attendees'), attendees),
  field(t('purpose_of_use'), purpose, t('purpose_of_use_hint')),
  terms && !terms.eligible ? h('p', { class: 'note' }, text(terms.ineligibleReason) || t('not_eligible')) : null,
  h('button', { type: 'submit' }, t('hold')));
  if (v.error) attendees.setAttribute('aria-describedby', errorId);
  return h('section', { id: 'hold-form', class: 'panel', tabindex: '-1', 'aria-labelledby': 'hold-heading' },
    h('h2', { id: 'hold-heading' }, t('chosen_slot', { range })),
    h('p', {}, s_fee(v.slot)),
    h('p', { class: 'hint' }, t('hold_hint')),
    form);
}

const s_fee = (slot) => (slot.fee ? t('slot_fee', { fee: yen(slot.fee) }) : t('fee_at_review'));

export async function renderFacility(root, id) {
  const v = viewOf(id);
  replace(root, h('h1', {}, t('loading')));
  let facility, terms, kinds = [];
  try {
    [{ facility, terms }, kinds] = await Promise.all([call('GetFacility', { facilityId: id }), facilityKinds().catch(() => [])]);
  } catch (e) {
    replace(root, h('h1', {}, t('facility')), h('p', { class: 'alert', role: 'alert' }, e.message), h('p', {}, h('a', { href: '#/' }, t('back_to_search'))));
    return;
  }
  let answer = null;
  let availabilityError = '';
  const load = async () => {
    try {
      answer = await call('GetAvailability', {
        facilityIds: [id],
        window: { start: jstInstant(v.weekStart, '00:00'), end: jstInstant(addDays(v.weekStart, DAYS), '00:00') },
      }, { timeoutMs: 5000 });
      availabilityError = '';
    } catch (e) {
      answer = null;
      availabilityError = e.message;
    }
  };
  const redraw = ({ focus } = {}) => {
    const statuses = answer?.statuses || [];
    replace(root,
      h('p', {}, h('a', { href: '#/' }, `← ${t('back_to_search')}`)),
      h('h1', {}, name(facility.name)),
      about(facility, kinds),
      feeTable(facility, terms),
      h('section', { 'aria-labelledby': 'week-heading' },
        h('h2', { id: 'week-heading' }, t('availability')),
        h('div', { class: 'week-nav' },
          h('button', { type: 'button', class: 'secondary', onclick: async () => { v.weekStart = addDays(v.weekStart, -DAYS); await load(); redraw({ focus: 'week-heading' }); } }, t('prev_week')),
          h('button', { type: 'button', class: 'secondary', onclick: async () => { v.weekStart = addDays(v.weekStart, DAYS); await load(); redraw({ focus: 'week-heading' }); } }, t('next_week'))),
        statuses.length ? h('ul', { class: 'statuses inline' }, statuses.map((s) => {
          const line = statusLine(s);
          return h('li', { class: line.ok ? 'status ok' : 'status problem' }, `${line.city}: `, h('strong', {}, line.label));
        })) : null,
        availabilityError ? h('p', { class: 'alert', role: 'alert' }, t('availability_failed', { why: availabilityError })) : null,
        !facility.bookableViaHub
          ? h('p', { class: 'note' }, t('not_bookable_here'), ' ', facility.bookingUrl ? h('a', { href: facility.bookingUrl, rel: 'noopener noreferrer', target: '_blank' }, t('owner_booking_page')) : null)
          : null,
        answer ? weekGrid(v, answer, redraw) : null,
        holdForm(id, facility, terms, v, redraw)));
    if (focus) {
      const el = document.getElementById(focus);
      if (el) {
        if (!el.hasAttribute('tabindex') && !/^(INPUT|BUTTON|SELECT|A)$/.test(el.tagName)) el.setAttribute('tabindex', '-1');
        el.focus();
      }
    }
  };
  await load();
  redraw();
}
