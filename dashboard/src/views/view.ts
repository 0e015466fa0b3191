/** A routed page: its element, document title and cleanup (close sockets, stop timers). */
export interface View {
  title: string;
  el: HTMLElement;
  destroy(): void;
}
