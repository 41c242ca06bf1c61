// Save/restore state of a virtio-net device model. Ring state belongs to the transport; the
// model keeps only what the guest can see in config space.

export interface VirtioNetState {
  version: 1;
  /** Config-space MAC as "xx:xx:xx:xx:xx:xx": guest-visible, so it travels with the snapshot. */
  mac: string;
  /** VIRTIO_NET_S_LINK_UP. */
  linkUp: boolean;
}

/** Why `state` cannot be restored, or undefined when it can. */
export function checkVirtioNetState(state: VirtioNetState): string | undefined {
  if (state?.version !== 1) return `state version ${String(state?.version)} is not readable by this build (version 1)`;
  if (typeof state.mac !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(state.mac)) return `MAC "${String(state.mac)}" is not six hex bytes`;
  if (typeof state.linkUp !== 'boolean') return 'linkUp is not a boolean';
  return undefined;
}

export function macToText(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function macFromText(text: string): Uint8Array {
  return Uint8Array.from(text.split(':'), (b) => parseInt(b, 16));
}
