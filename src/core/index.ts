export * from './errors.ts';
export * from './validate.ts';
export * from './rng.ts';
export * from './profile.ts';
export * from './search-space.ts';
export * from './model-card.ts';
export * from './experiment.ts';
export * from './recommendation.ts';
