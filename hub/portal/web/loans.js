// loans.js — my loans from every city in one list (LibraryService.ListMyLoans: each library
// where a card is linked asked live, a status per city; print books lent at a counter and
// e-books alike): title, lending city and branch, due date, renewals left or why renewal is
// refused; Renew with an Idempotency-Key, answered with the new due date.
import { call, newIdempotencyKey } from './api.js';
import { cityName, goLogin } from './app.js';
import * as auth from './auth.js';
import { h, replace } from './dom.js';
import { calendarDate, name, statusList, text } from './format.js';
import { lang, t } from './i18n.js';

const LIBRARY = { service: 'LibraryService' };
const RENEWABLE = ['ACTIVE', 'OVERDUE'];
// Answers after which the same renewal may be asked again with the same key (the hub finishes a
// renewal it could not send, and the key then answers its outcome).
const RETRY_SAME_KEY = ['NETWORK', 'LIBRARY_ERROR_OWNER_UNAVAILABLE'];
const keys = new Map(); // loan id → idempotency key of the renewal being asked

const stateOf = (loan) => (loan.state || '').replace('LOAN_STATE_', '');
const renewalsLeft = (loan) => (loan.maxRenewals ? Math.max(0, loan.maxRenewals - (loan.renewals || 0)) : null);

// A library refusal in the reader's language: the hub's localized message (ja, en); for
// やさしい日本語 the portal's own words where it has them.
function refusalText(error) {
  const easy = lang() === 'easy' ? t(`easy_${error.reason}`, {}, null) : null;
  return easy || text(error.localized) || error.message;
}

// The hub does not keep Loan.branch_name yet: the lending branches' names are read from the works'
// holdings at their libraries (GetHoldings, one call per work, at once); where that fails the
// branch id stays.
async function nameBranches(loans) {
  const unnamed = loans.filter((l) => !text(l.branchName) && l.branchId && l.work?.id && l.owner?.code);
  const works = new Map(unnamed.map((l) => [`${l.owner.code} ${l.work.id}`, l]));
  const names = new Map(); // "code branch-id" → LocalizedText
  await Promise.all([...works.values()].map(async (loan) => {
    const answer = await call('GetHoldings', { workId: loan.work.id, municipalities: [loan.owner.slug || loan.owner.code] },
      { ...LIBRARY, timeoutMs: 3000 }).catch(() => null);
    for (const holding of (answer?.availability || []).flatMap((a) => a.holdings || [])) {
      if (holding.branchName) names.set(`${loan.owner.code} ${holding.branchId}`, holding.branchName);
    }
  }));
  for (const loan of unnamed) loan.branchName = names.get(`${loan.owner.code} ${loan.branchId}`);
}

function renewalFacts(loan, refusal) {
  const left = renewalsLeft(loan);
  const done = loan.renewals || 0;
  if (refusal) return refusalText(refusal);
  if (left === null) return t('renewals_done', { done });
  return left > 0 ? t('renewals_left', { n: left, done }) : t('renewals_none_left', { done });
}

function loanItem(loan, refusal, unanswered, renew) {
  const state = stateOf(loan);
  const headingId = `loan-${loan.id}`;
  const branch = text(loan.branchName) || loan.branchId || '';
  const rows = [
    [t('lent_by'), branch ? `${cityName(loan.owner)}: ${branch}` : cityName(loan.owner)],
    [t('state'), t(`loan_${state}`, {}, state)],
    [t('due_date'), calendarDate(loan.dueDate)],
    [t('borrowed_on'), calendarDate(loan.borrowedOn)],
    RENEWABLE.includes(state) ? [t('renewals'), renewalFacts(loan, refusal)] : null,
    loan.elibrary ? [t('format'), t('ebook')] : null,
  ].filter((row) => row && row[1]);
  const mayRenew = RENEWABLE.includes(state) && renewalsLeft(loan) !== 0 && !refusal;
  return h('li', { class: 'booking' },
    h('h2', { id: headingId, tabindex: '-1' }, name(loan.work?.title)),
    h('dl', { class: 'details' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    unanswered ? h('p', { class: 'note' }, t('loan_as_last_seen', { city: cityName(loan.owner) })) : null,
    loan.readerUrl && state !== 'RETURNED'
      ? h('p', {}, h('a', { href: loan.readerUrl, target: '_blank', rel: 'noopener noreferrer', 'aria-describedby': headingId }, t('read_online'))) : null,
    mayRenew ? h('button', {
      type: 'button', id: `renew-${loan.id}`, 'aria-describedby': headingId, onclick: () => renew(loan),
    }, t('renew')) : null);
}

export async function renderLoans(root) {
  if (!auth.resident()) {
    replace(root, h('h1', {}, t('nav_loans')), h('p', {}, t('login_to_see')), h('button', { type: 'button', onclick: goLogin }, t('login')));
    return;
  }
  let answer = { loans: [], statuses: [] };
  let notice = null; // {kind, text}: the last renewal's outcome
  const refusals = new Map(); // loan id → the error that refused its renewal (until reloaded)
  const load = async () => {
    answer = await call('ListMyLoans', { page: { pageSize: 100 } }, { ...LIBRARY, login: true });
    await nameBranches(answer.loans || []);
  };
  // A loan whose library did not answer this time is shown as the hub saw it last.
  const unanswered = (loan) => (answer.statuses || []).some((s) => s.municipality?.code === loan.owner?.code
    && s.status !== 'ANSWER_STATUS_OK');
  const draw = (focusId) => {
    replace(root,
      h('h1', {}, t('nav_loans')),
      h('p', { class: 'lead' }, t('loans_lead')),
      notice ? h('p', { class: notice.kind, role: 'status', id: 'loans-notice', tabindex: '-1' }, notice.text) : null,
      statusList(answer.statuses),
      answer.loans?.length ? h('ul', { class: 'bookings' }, answer.loans.map((loan) => loanItem(loan, refusals.get(loan.id), unanswered(loan), renew))) : h('p', {}, t('no_loans')),
      h('p', {}, h('a', { href: '#/holds' }, t('see_holds'))));
    if (focusId) document.getElementById(focusId)?.focus();
  };
  const renew = async (loan) => {
    if (!keys.has(loan.id)) keys.set(loan.id, newIdempotencyKey());
    const title = text(loan.work?.title);
    try {
      const renewed = (await call('Renew', { loanId: loan.id }, { ...LIBRARY, key: keys.get(loan.id), login: true })).loan;
      renewed.branchName ||= loan.branchName;
      keys.delete(loan.id);
      answer.loans = answer.loans.map((l) => (l.id === loan.id ? renewed : l));
      notice = { kind: 'success', text: t('renewed', { title, date: calendarDate(renewed.dueDate) }) };
    } catch (e) {
      if (!RETRY_SAME_KEY.includes(e.reason)) keys.delete(loan.id);
      if (e.reason === 'LIBRARY_ERROR_RENEWAL_REFUSED') refusals.set(loan.id, e);
      notice = { kind: 'alert', text: t('renew_failed', { title, why: refusalText(e) }) };
    }
    draw('loans-notice');
  };
  replace(root, h('h1', {}, t('loading')));
  try {
    await load();
  } catch (e) {
    replace(root, h('h1', {}, t('nav_loans')), h('p', { class: 'alert', role: 'alert' }, refusalText(e)));
    return;
  }
  draw();
}
