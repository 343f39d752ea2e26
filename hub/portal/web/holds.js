// holds.js — my book holds at every city in one list (LibraryService.ListMyHolds: queue
// positions refreshed live from each owner, a status per owner), cancellable (CancelHold) while
// waiting, in transit or ready, after a second, explicit step.
import { call, newIdempotencyKey } from './api.js';
import { cityName, goLogin } from './app.js';
import * as auth from './auth.js';
import { h, replace } from './dom.js';
import { dateTime, name, statusList, text } from './format.js';
import { t } from './i18n.js';

const LIBRARY = { service: 'LibraryService' };
const CANCELLABLE = ['WAITING', 'IN_TRANSIT', 'READY'];
const asking = new Map(); // hold id → idempotency key while "really cancel?" is shown
let notice = ''; // the last cancellation's outcome: a cancelled hold leaves the list

const stateOf = (hold) => (hold.state || '').replace('HOLD_STATE_', '');

export async function renderHolds(root) {
  if (!auth.resident()) {
    replace(root, h('h1', {}, t('nav_holds')), h('p', {}, t('login_to_see')), h('button', { type: 'button', onclick: goLogin }, t('login')));
    return;
  }
  let answer = { holds: [], statuses: [] };
  const load = async () => { answer = await call('ListMyHolds', { page: { pageSize: 50 } }, { ...LIBRARY, login: true }); };
  const draw = (focusId) => {
    replace(root,
      h('h1', {}, t('nav_holds')),
      notice ? h('p', { class: 'note', role: 'status', id: 'holds-notice', tabindex: '-1' }, notice) : null,
      statusList(answer.statuses),
      answer.holds?.length ? h('ul', { class: 'bookings' }, answer.holds.map((hold) => {
        const state = stateOf(hold);
        const headingId = `hold-${hold.id}`;
        const pickup = hold.pickupBranch ? `${cityName(hold.pickupBranch.municipality)}: ${text(hold.pickupBranch.name)}` : '';
        const rows = [
          [t('library_of'), cityName(hold.owner)],
          [t('pickup_branch'), pickup],
          [t('state'), t(`hold_${state}`, {}, state)],
          hold.queuePosition ? [t('queue_position'), String(hold.queuePosition)] : null,
          hold.expiresAt ? [t('pickup_until'), dateTime(hold.expiresAt)] : null,
          hold.placedAt ? [t('placed_at'), dateTime(hold.placedAt)] : null,
          hold.errorMessage ? [t('why_failed'), text(hold.errorMessage)] : null,
        ].filter((row) => row && row[1]);
        let controls = null;
        if (asking.has(hold.id)) {
          controls = h('div', { class: 'actions', role: 'group', 'aria-label': t('cancel_hold') },
            h('p', {}, t('really_cancel_hold', { title: text(hold.work?.title) })),
            h('button', {
              type: 'button', class: 'danger', id: `yes-${hold.id}`,
              onclick: async () => {
                try {
                  await call('CancelHold', { holdId: hold.id }, { ...LIBRARY, key: asking.get(hold.id), login: true });
                  notice = t('hold_cancelled_title', { title: text(hold.work?.title) });
                } catch (e) {
                  notice = e.message;
                }
                asking.delete(hold.id);
                await load().catch(() => {});
                draw('holds-notice');
              },
            }, t('yes_cancel')),
            h('button', { type: 'button', class: 'secondary', onclick: () => { asking.delete(hold.id); draw(`cancel-${hold.id}`); } }, t('keep_booking')));
        } else if (CANCELLABLE.includes(state)) {
          controls = h('button', {
            type: 'button', class: 'secondary', id: `cancel-${hold.id}`, 'aria-describedby': headingId,
            onclick: () => { asking.set(hold.id, newIdempotencyKey()); draw(`yes-${hold.id}`); },
          }, t('cancel_hold'));
        }
        return h('li', { class: 'booking' },
          h('h2', { id: headingId, tabindex: '-1' }, name(hold.work?.title)),
          h('dl', { class: 'details' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
          controls);
      })) : h('p', {}, t('no_holds')),
      h('p', {}, h('a', { href: '#/loans' }, t('see_loans'))));
    if (focusId) document.getElementById(focusId)?.focus();
  };
  replace(root, h('h1', {}, t('loading')));
  try {
    await load();
  } catch (e) {
    replace(root, h('h1', {}, t('nav_holds')), h('p', { class: 'alert', role: 'alert' }, e.message));
    return;
  }
  draw();
}
