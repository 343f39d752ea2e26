// format.js — what the hub sends, written for the reader's language: LocalizedText, yen, JST
// dates and times, distances, and the statuses of cities.
import { h, uid } from './dom.js';
import { lang, locale, t } from './i18n.js';

const ZONE = 'Asia/Tokyo';

// katakana → hiragana, for readings shown to readers of やさしい日本語.
const hiragana = (text) => text.replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));

// A LocalizedText as a string: English when asked and present, else Japanese.
export function text(value) {
  if (!value) return '';
  if (lang() === 'en' && value.en) return value.en;
  return value.ja || value.en || '';
}

// A name as a node: for やさしい日本語 with its reading as ruby when the hub has one.
export function name(value) {
  const plain = text(value);
  if (lang() === 'easy' && value?.kana && value.ja) {
    return h('ruby', {}, value.ja, h('rp', {}, '('), h('rt', {}, hiragana(value.kana)), h('rp', {}, ')'));
  }
  return plain;
}

// Yen: absent = unknown (''), {} = free.
export function yen(value) {
  if (!value) return '';
  const amount = Number(value.amount || 0);
  return amount === 0 ? t('free') : `¥${amount.toLocaleString('ja-JP')}`;
}

const format = (options) => new Intl.DateTimeFormat(locale(), { timeZone: ZONE, ...options });

export const dateTime = (iso) => (iso ? format({ dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)) : '');
export const day = (iso) => format({ month: 'short', day: 'numeric', weekday: 'short' }).format(new Date(iso));
export const clock = (iso) => format({ hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(iso));
export const timeRange = (range) => `${dateTime(range.start)}–${clock(range.end)}`;
// A calendar date "YYYY-MM-DD" (a due date) with its weekday: "2026年12月9日(水)", "Wed 9 December 2026".
export const calendarDate = (ymd) => (/^\d{4}-\d\d-\d\d$/.test(ymd || '')
  ? format({ year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' }).format(new Date(`${ymd}T12:00:00+09:00`)) : '');

// "YYYY-MM-DD" of an instant in Japan.
export function jstDate(when) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(when);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

// A JST date and "HH:MM" as an RFC 3339 instant in UTC, without fractions of a second.
export const jstInstant = (date, time) => new Date(`${date}T${time}:00+09:00`).toISOString().replace('.000Z', 'Z');

// The date n days after date ("YYYY-MM-DD").
export function addDays(date, n) {
  const d = new Date(`${date}T12:00:00+09:00`);
  d.setUTCDate(d.getUTCDate() + n);
  return jstDate(d);
}

export function distance(meters) {
  if (!meters) return '';
  return meters < 1000 ? t('meters', { n: Math.round(meters) }) : t('kilometers', { n: (meters / 1000).toFixed(1) });
}

// A municipality's part of a fan-out answer: "調布市: 応答なし".
export function statusLine(status) {
  const value = (status.status || 'ANSWER_STATUS_UNSPECIFIED').replace('ANSWER_STATUS_', '').toLowerCase();
  const city = text(status.municipality?.name) || status.municipality?.slug || '';
  return { city, value, label: t(`status_${value}`), ok: value === 'ok' };
}

// Every asked city's status as a list under its own heading: a city that did not answer is
// said, never hidden.
export function statusList(statuses) {
  if (!statuses?.length) return null;
  const headingId = uid('statuses');
  return h('section', { class: 'statuses', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, t('city_statuses')),
    h('ul', {}, statuses.map((s) => {
      const line = statusLine(s);
      return h('li', { class: line.ok ? 'status ok' : 'status problem' },
        h('span', { class: 'city' }, `${line.city}: `), h('strong', {}, line.label),
        !line.ok && s.message ? h('span', { class: 'detail' }, ` (${s.message})`) : null);
    })));
}
