// dom.js — builds the page's elements without HTML strings: whatever a city, a facility or the
// hub sends is set as text, never parsed as markup.

// h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more]) → an element. Attributes
// that are false, null or undefined are left out; true sets an empty attribute.
// A value is set as the property once the children are in, so that a <select> picks its option.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined || name === 'value') continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'checked') {
      el.checked = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  if (attrs && attrs.value !== undefined && attrs.value !== null) {
    if ('value' in el) el.value = String(attrs.value);
    else el.setAttribute('value', String(attrs.value));
  }
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces what el holds with children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A fresh id for label/aria references, unique within the page.
let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;

// A form control with its visible label: {label, hint, control} → a <div class="field">.
export function field(label, control, hint) {
  const id = control.id || (control.id = uid('f'));
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control);
}

// Moves focus to a view's heading after navigation, so that screen readers announce it.
export function focusHeading(root) {
  const heading = root.querySelector('h1, h2');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}
