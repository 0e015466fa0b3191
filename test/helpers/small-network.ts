/**
 * The smallest full definition of the Diehl & Cook shape (784 inputs, 10 + 10 neurons, every
 * other field at its default) that API and runner tests submit, with the fields a test cares about.
 */
export function smallNetwork(fields: Record<string, unknown> = {}) {
  return {
    layers: [
      { id: 'X', type: 'input', size: 784 },
      { id: 'Ae', type: 'adaptive-lif', size: 10 },
      { id: 'Ai', type: 'lif', size: 10 },
    ],
    connections: [
      { from: 'X', to: 'Ae', type: 'dense' },
      { from: 'Ae', to: 'Ai', type: 'one-to-one', weight: 22.5 },
      { from: 'Ai', to: 'Ae', type: 'all-but-self', weight: -120 },
    ],
    ...fields,
  };
}
