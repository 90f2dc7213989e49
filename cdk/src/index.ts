export * from './handler-package';
export * from './empty-on-delete';
export * from './scheduled-cleanup';
export * from './deletion-hook';
export * from './create-on-push';
