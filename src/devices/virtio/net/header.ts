// The virtio_net_hdr that precedes every packet on the rx and tx queues (virtio 1.2 5.1.6).
// With VIRTIO_F_VERSION_1 it is always 12 bytes, num_buffers included (5.1.6.1).

/** Size of struct virtio_net_hdr with VERSION_1. */
export const VIRTIO_NET_HDR_BYTES = 12;

/** virtio_net_hdr.flags (5.1.6). */
export const VirtioNetHdrFlag = {
  NEEDS_CSUM: 1,
  DATA_VALID: 2,
  RSC_INFO: 4,
} as const;

/** virtio_net_hdr.gso_type value for "no segmentation offload" (5.1.6). */
export const VIRTIO_NET_HDR_GSO_NONE = 0;

export interface VirtioNetHeader {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
  numBuffers: number;
}

/** Decodes the 12 little-endian bytes at the start of `bytes` (the caller checks the length). */
export function decodeNetHeader(bytes: Uint8Array): VirtioNetHeader {
  const u16 = (at: number) => bytes[at]! | (bytes[at + 1]! << 8);
  return { flags: bytes[0]!, gsoType: bytes[1]!, hdrLen: u16(2), gsoSize: u16(4), csumStart: u16(6), csumOffset: u16(8), numBuffers: u16(10) };
}

/**
 * The header the device puts before a received packet when no offloads are negotiated: all
 * zero (no checksum claims, GSO_NONE) except num_buffers, which is 1 without
 * VIRTIO_NET_F_MRG_RXBUF (5.1.6.4.1).
 */
export function receiveHeader(): Uint8Array {
  const bytes = new Uint8Array(VIRTIO_NET_HDR_BYTES);
  bytes[10] = 1;
  return bytes;
}
