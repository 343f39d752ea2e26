// booking.js — one of the resident's bookings: the review of a hold with the fee and the
// hold's countdown, then ConfirmBooking at exactly that fee (or release the hold); a booking
// that is CONFIRMING or CANCELLING at a slow owner is asked again until it settles.
import { call, newIdempotencyKey } from './api.js';
import { goLogin } from './app.js';
import * as auth from './auth.js';
import { h, replace } from './dom.js';
import { dateTime, name, text, timeRange, yen } from './format.js';
import { t } from './i18n.js';
import { reasonText } from './facility.js';

let ticker = null; // the countdown's interval: one at a time, stopped when the view changes
const keys = new Map(); // booking id → {confirm, cancel}: a retried click reuses its key

const stateName = (b) => (b.state || '').replace('BOOKING_STATE_', '');

function keysOf(id) {
  if (!keys.has(id)) keys.set(id, { confirm: newIdempotencyKey(), cancel: newIdempotencyKey() });
  return keys.get(id);
}

// Seconds from now until an RFC 3339 instant (never negative).
const secondsUntil = (iso) => Math.max(0, Math.floor((new Date(iso).getTime() - Date.now()) / 1000));
const mmss = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;

export function bookingFacts(b) {
  const rows = [
    [t('facility'), h('a', { href: `#/facility/${encodeURIComponent(b.facilityId)}` }, name(b.facilityName))],
    [t('city'), text(b.owner?.name)],
    [t('when'), timeRange(b.time)],
    [t('state'), t(`state_${stateName(b)}`, {}, stateName(b))],
    [t('fee'), yen(b.fee) || t('price_unknown')],
    b.attendees ? [t('attendees'), String(b.attendees)] : null,
    b.purpose ? [t('purpose_of_use'), b.purpose] : null,
    b.ownerReference ? [t('owner_reference'), b.ownerReference] : null,
    b.paymentInstructions ? [t('payment'), text(b.paymentInstructions)] : null,
    b.cancellationDeadline ? [t('cancel_until'), dateTime(b.cancellationDeadline)] : null,
    b.errorMessage ? [t('why_failed'), text(b.errorMessage)] : null,
  ].filter(Boolean);
  return h('dl', { class: 'details' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export async function renderBooking(root, id) {
  clearInterval(ticker);
  if (!auth.resident()) {
    replace(root, h('h1', {}, t('booking')), h('p', {}, t('login_to_see')), h('button', { type: 'button', onclick: goLogin }, t('login')));
    return;
  }
  let booking;
  let message = '';
  const k = keysOf(id);

  const act = async (method, body, key) => {
    try {
      booking = (await call(method, { bookingId: id, ...body }, { key, login: true })).booking;
      message = '';
    } catch (e) {
      message = reasonText(e);
      try {
        booking = (await call('GetBooking', { bookingId: id }, { login: true })).booking;
      } catch { /* keep what we had */ }
    }
    draw('booking-heading');
  };

  const draw = (focusId) => {
    clearInterval(ticker);
    const state = stateName(booking);
    const heading = t(`booking_heading_${state}`, {}, t('booking'));
    const countdown = h('p', { class: 'countdown', id: 'countdown' });
    const announce = h('p', { class: 'live', role: 'status' });
    const confirm = h('button', { type: 'button', onclick: () => act('ConfirmBooking', { acceptedFee: booking.fee || { amount: '0' } }, k.confirm) }, t('confirm_booking'));
    replace(root,
      h('h1', { id: 'booking-heading', tabindex: '-1' }, heading),
      message ? h('p', { class: 'alert', role: 'alert' }, message) : null,
      state === 'CONFIRMED' ? h('p', { class: 'success' }, t('booked_note')) : null,
      bookingFacts(booking),
      state === 'HELD' ? [countdown, announce, h('p', { class: 'hint' }, t('review_hint')),
        h('div', { class: 'actions' }, confirm,
          h('button', { type: 'button', class: 'secondary', onclick: () => act('CancelBooking', { reason: '' }, k.cancel) }, t('release_hold')))] : null,
      h('p', {}, h('a', { href: '#/bookings' }, t('nav_bookings'))));
    if (state === 'HELD' && booking.holdExpiresAt) {
      const tick = () => {
        const left = secondsUntil(booking.holdExpiresAt);
        countdown.textContent = t('hold_left', { time: mmss(left) });
        if (left === 60) announce.textContent = t('hold_one_minute');
        if (left === 0) {
          clearInterval(ticker);
          confirm.disabled = true;
          announce.textContent = t('hold_expired');
        }
      };
      tick();
      ticker = setInterval(() => (document.body.contains(countdown) ? tick() : clearInterval(ticker)), 1000);
    }
    if (state === 'CONFIRMING' || state === 'CANCELLING') {
      ticker = setTimeout(async () => {
        if (!document.body.contains(countdown)) return;
        try { booking = (await call('GetBooking', { bookingId: id }, { login: true })).booking; } catch { /* try again */ }
        draw();
      }, 2000);
    }
    if (focusId) document.getElementById(focusId)?.focus();
  };

  replace(root, h('h1', {}, t('loading')));
  try {
    booking = (await call('GetBooking', { bookingId: id }, { login: true })).booking;
  } catch (e) {
    replace(root, h('h1', {}, t('booking')), h('p', { class: 'alert', role: 'alert' }, e.message));
    return;
  }
  draw();
}
