import type { Modality } from '../core/profile.ts';

/** DICOM Modality (0008,0060) defined terms mapped onto the profile's modalities. */
const BY_CODE: Record<string, Modality> = {
  CR: 'xray', // computed radiography
  DX: 'xray', // digital radiography
  RG: 'xray', // radiographic imaging
  MG: 'xray', // mammography
  PX: 'xray', // panoramic dental X-ray
  IO: 'xray', // intra-oral radiography
  RF: 'xray', // radio fluoroscopy
  XA: 'xray', // X-ray angiography
  CT: 'ct',
  MR: 'mri',
  US: 'ultrasound',
  OP: 'fundus', // ophthalmic photography
  OPT: 'oct', // ophthalmic tomography
  SM: 'histopathology', // slide microscopy (whole-slide imaging)
  GM: 'microscopy', // general microscopy
  DMS: 'dermoscopy',
};

/** Known DICOM codes outside the list (XC photography, endoscopy, PET, ...) map to `other`. */
export function modalityFromDicom(code: string): Modality {
  const key = code.trim().toUpperCase();
  if (!key) return 'unknown';
  return BY_CODE[key] ?? 'other';
}
