// Image operations shared by `vireo disk` and the host agent: create, info, check, convert,
// commit, clone, resize.

export { type ImageFormat, type OpenImage, detectImageFormat, isImageFormat, openImage } from './image-format.js';
export { ImageOpsError, type ImageOpsErrorKind } from './image-ops-error.js';
export { type CreateImageOptions, createImage } from './create-image.js';
export { type BackingChainEntry, type ImageInfo, type ImageSnapshotInfo, imageInfo } from './image-info.js';
export { type ImageCheckResult, checkImage } from './check-image.js';
export { type ConvertOptions, type ConvertResult, type ProgressCallback, convertImage } from './convert-image.js';
export { type CommitResult, commitImage } from './commit-image.js';
export { type CloneResult, cloneImage } from './clone-image.js';
export { resizeImage } from './resize-image.js';
