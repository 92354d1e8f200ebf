/** The app's one way into the library: everything it uses of `mcumgr-ts` is imported here. */
export * from 'mcumgr-ts';
