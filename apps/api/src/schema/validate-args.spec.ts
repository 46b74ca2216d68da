import 'reflect-metadata';
import { Max, Min } from 'class-validator';
import { ArgumentValidationError } from 'type-graphql';
import { validateArgs } from './validate-args';

class Bounded {
  @Min(1)
  @Max(10)
  n: number;
  constructor(n: number) {
    this.n = n;
  }
}

class ChildOfBounded extends Bounded {}

class Unconstrained {
  constructor(readonly id: number) {}
}

const noResolverData = {} as Parameters<typeof validateArgs>[2];
const run = (value: unknown) => validateArgs(value, Object, noResolverData);

async function failure(value: unknown): Promise<ArgumentValidationError> {
  try {
    await run(value);
  } catch (error) {
    return error as ArgumentValidationError;
  }
  throw new Error('expected a validation failure');
}

describe('validateArgs (type-graphql validateFn)', () => {
  it('passes values within the constraints, of the class and of a subclass', async () => {
    await expect(Promise.resolve(run(new Bounded(1)))).resolves.toBeUndefined();
    await expect(Promise.resolve(run(new ChildOfBounded(10)))).resolves.toBeUndefined();
  });

  it('refuses a value off a constraint with ArgumentValidationError: BAD_USER_INPUT and the failing property', async () => {
    for (const value of [new Bounded(0), new ChildOfBounded(11)]) {
      const error = await failure(value);
      expect(error).toBeInstanceOf(ArgumentValidationError);
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      const details = error.extensions.validationErrors as Array<{ property: string; value: unknown; constraints: Record<string, string> }>;
      expect(details).toHaveLength(1);
      expect(details[0]).toMatchObject({ property: 'n', value: value.n });
      expect(Object.keys(details[0].constraints)).toEqual([value.n < 1 ? 'min' : 'max']);
    }
  });

  it('checks every constrained object of a list', async () => {
    await expect(Promise.resolve(run([new Bounded(2), new Bounded(3)]))).resolves.toBeUndefined();
    const error = await failure([new Bounded(2), new Bounded(12)]);
    expect((error.extensions.validationErrors as Array<{ value: unknown }>)[0].value).toBe(12);
  });

  it('returns at once (no promise) for scalars, null, plain objects and classes without constraints', () => {
    for (const value of [undefined, null, 3, 'x', true, { n: 0 }, new Unconstrained(-1), [new Unconstrained(0), 5], []]) {
      expect(run(value)).toBeUndefined();
    }
  });
});
