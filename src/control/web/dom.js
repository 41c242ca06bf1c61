// Building the page without a framework: elements from tag, attributes and children, and a
// table from rows and columns. Text goes in as text, never as HTML.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** columns: [{ title, value(row) -> string | Node }] */
export function table(rows, columns, empty = 'None yet.') {
  if (rows.length === 0) return h('p', {}, empty);
  return h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c.title)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((c) => h('td', {}, c.value(row)))))));
}

export function stateLabel(state) {
  return h('span', { class: `state-${state}` }, state);
}

export function errorText(error) {
  return h('p', { class: 'error', role: 'alert' }, error.message ?? String(error));
}
