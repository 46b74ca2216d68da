/** What a view gets: its main element, the route's argument, and whether the route has moved on since. */
export interface ViewContext {
  main: HTMLElement;
  arg: string;
  /** True once another route was opened: the view stops drawing. */
  stale(): boolean;
  /** Called when the view leaves (closes subscriptions, timers). */
  onLeave(cleanup: () => void): void;
}
