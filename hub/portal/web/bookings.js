// bookings.js — my bookings from every city in one list (ListMyBookings), with cancellation
// (CancelBooking) offered until each booking's deadline, after a second, explicit step.
import { call, newIdempotencyKey } from './api.js';
import { goLogin } from './app.js';
import * as auth from './auth.js';
import { h, replace } from './dom.js';
import { dateTime, name, text, timeRange } from './format.js';
import { t } from './i18n.js';
import { bookingFacts } from './booking.js';
import { reasonText } from './facility.js';

const asking = new Map(); // booking id → idempotency key, while "really cancel?" is shown
const messages = new Map(); // booking id → the last cancellation's outcome

const cancellable = (b) => {
  const state = (b.state || '').replace('BOOKING_STATE_', '');
  if (state === 'HELD') return true;
  return state === 'CONFIRMED' && (!b.cancellationDeadline || new Date(b.cancellationDeadline) > new Date());
};

export async function renderBookings(root) {
  if (!auth.resident()) {
    replace(root, h('h1', {}, t('nav_bookings')), h('p', {}, t('login_to_see')), h('button', { type: 'button', onclick: goLogin }, t('login')));
    return;
  }
  let bookings = [];
  const load = async () => {
    bookings = (await call('ListMyBookings', { page: { pageSize: 50 } }, { login: true })).bookings || [];
  };
  const draw = (focusId) => {
    replace(root,
      h('h1', {}, t('nav_bookings')),
      bookings.length ? h('ul', { class: 'bookings' }, bookings.map((b) => {
        const headingId = `booking-${b.id}`;
        const message = messages.get(b.id);
        let controls = null;
        if (asking.has(b.id)) {
          controls = h('div', { class: 'actions', role: 'group', 'aria-label': t('cancel_booking') },
            h('p', { id: `ask-${b.id}` }, t('really_cancel', { name: text(b.facilityName), when: timeRange(b.time) })),
            h('button', {
              type: 'button', class: 'danger', id: `yes-${b.id}`,
              onclick: async () => {
                try {
                  await call('CancelBooking', { bookingId: b.id, reason: '' }, { key: asking.get(b.id), login: true });
                  messages.set(b.id, t('cancelled_note'));
                } catch (e) {
                  messages.set(b.id, reasonText(e));
                }
                asking.delete(b.id);
                await load().catch(() => {});
                draw(headingId);
              },
            }, t('yes_cancel')),
            h('button', { type: 'button', class: 'secondary', onclick: () => { asking.delete(b.id); draw(`cancel-${b.id}`); } }, t('keep_booking')));
        } else if (cancellable(b)) {
          controls = h('button', {
            type: 'button', class: 'secondary', id: `cancel-${b.id}`,
            'aria-describedby': headingId,
            onclick: () => { asking.set(b.id, newIdempotencyKey()); draw(`yes-${b.id}`); },
          }, t('cancel_booking'));
        }
        return h('li', { class: 'booking' },
          h('h2', { id: headingId, tabindex: '-1' }, h('a', { href: `#/booking/${encodeURIComponent(b.id)}` }, name(b.facilityName)), ' ', h('span', { class: 'when' }, dateTime(b.time.start))),
          message ? h('p', { class: 'note', role: 'status' }, message) : null,
          bookingFacts(b),
          controls);
      })) : h('p', {}, t('no_bookings')));
    if (focusId) document.getElementById(focusId)?.focus();
  };
  replace(root, h('h1', {}, t('loading')));
  try {
    await load();
  } catch (e) {
    replace(root, h('h1', {}, t('nav_bookings')), h('p', { class: 'alert', role: 'alert' }, reasonText(e)));
    return;
  }
  draw();
}
