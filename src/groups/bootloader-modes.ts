/** MCUboot's modes as `os bootloader` with `query: "mode"` reports them (MCUboot boot/bootutil/include/bootutil/boot_status.h). */
export const MCUBOOT_MODES = [
  { mode: 0, name: 'single-app', title: 'single application slot' },
  { mode: 1, name: 'swap-scratch', title: 'swap using scratch' },
  { mode: 2, name: 'overwrite-only', title: 'overwrite only (upgrade only)' },
  { mode: 3, name: 'swap-move', title: 'swap using move' },
  { mode: 4, name: 'direct-xip', title: 'direct XIP' },
  { mode: 5, name: 'direct-xip-revert', title: 'direct XIP with revert' },
  { mode: 6, name: 'ram-load', title: 'RAM load' },
  { mode: 7, name: 'firmware-loader', title: 'firmware loader' },
  { mode: 8, name: 'single-slot-ram-load', title: 'single-slot RAM load' },
  { mode: 9, name: 'swap-offset', title: 'swap using offset' },
] as const;

export type McubootModeName = (typeof MCUBOOT_MODES)[number]['name'];

export const McubootMode = {
  SINGLE_APP: 0,
  SWAP_SCRATCH: 1,
  OVERWRITE_ONLY: 2,
  SWAP_MOVE: 3,
  DIRECT_XIP: 4,
  DIRECT_XIP_REVERT: 5,
  RAM_LOAD: 6,
  FIRMWARE_LOADER: 7,
  SINGLE_SLOT_RAM_LOAD: 8,
  SWAP_OFFSET: 9,
} as const;

/** "swap using move (3)", or "unknown mode 12" for a number MCUboot does not define. */
export function describeMcubootMode(mode: number): string {
  const m = MCUBOOT_MODES.find((x) => x.mode === mode);
  return m ? `${m.title} (${mode})` : `unknown mode ${mode}`;
}

/** A mode by its name (`swap-move`) or number (`3`); undefined when neither. */
export function parseMcubootMode(text: string): number | undefined {
  if (/^\d+$/.test(text)) return MCUBOOT_MODES.some((m) => m.mode === Number(text)) ? Number(text) : undefined;
  return MCUBOOT_MODES.find((m) => m.name === text)?.mode;
}

/** Modes whose secondary slot is swapped (test, revert, confirm after boot). */
export function modeSwaps(mode: number): boolean {
  return mode === McubootMode.SWAP_SCRATCH || mode === McubootMode.SWAP_MOVE || mode === McubootMode.SWAP_OFFSET;
}

/** Modes where the bootloader runs whichever slot holds the newest valid image (the image must be linked for it). */
export function modePicksSlot(mode: number): boolean {
  return mode === McubootMode.DIRECT_XIP || mode === McubootMode.DIRECT_XIP_REVERT || mode === McubootMode.RAM_LOAD;
}
