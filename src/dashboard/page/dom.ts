/** Building the page's elements from data: text only (never HTML), so nothing a task printed can become markup. */

type Child = Node | string | number | null | undefined | false;

/** An element with attributes (`class`, `data-*`, `title`…) and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** The element with this id (the page's skeleton has them all). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Node[]): void {
  parent.replaceChildren(...children);
}

/** A short message in the corner, for a few seconds. */
export function toast(message: string): void {
  const box = byId('toast');
  box.textContent = message;
  box.classList.add('shown');
  window.setTimeout(() => box.classList.remove('shown'), 4000);
}
