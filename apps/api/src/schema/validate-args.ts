import { getMetadataStorage, ValidationError, validateOrReject, ValidatorOptions } from 'class-validator';
import { ArgumentValidationError, ValidatorFn } from 'type-graphql';

/** The options type-graphql's built-in validation passes to class-validator. */
const OPTIONS: ValidatorOptions = { skipMissingProperties: true, forbidUnknownValues: false };

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- class-validator keys its metadata by constructor
const constrainedClasses = new Map<Function, boolean>();

/** Whether class-validator holds any constraint for instances of this class (its own or inherited); cached per class. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function hasConstraints(ctor: Function): boolean {
  let has = constrainedClasses.get(ctor);
  if (has === undefined) {
    has = getMetadataStorage().getTargetValidationMetadatas(ctor, '', false, false).length > 0;
    constrainedClasses.set(ctor, has);
  }
  return has;
}

function isConstrainedObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && hasConstraints(value.constructor);
}

async function validateObjects(values: object[]): Promise<void> {
  try {
    await Promise.all(values.map((v) => validateOrReject(v, OPTIONS)));
  } catch (errors) {
    throw new ArgumentValidationError(errors as ValidationError[]);
  }
}

/**
 * type-graphql's argument validation, given as its `validateFn`: class-validator over argument
 * and input objects (and each object of a list) with the options of the built-in one
 * (`skipMissingProperties`, no `forbidUnknownValues`), failures thrown as ArgumentValidationError
 * (code BAD_USER_INPUT, details in `extensions.validationErrors`, which formatError words). It
 * differs only in cost: the built-in one `require`s class-validator on every call and runs it
 * even for classes without a single constraint (PredictionArgs, PredictionPairInput …), which
 * was ~18 µs of the ~470 µs a prediction query cost the server (tools/bench/api-bench.ts);
 * here those classes are skipped, as class-validator would report nothing for them.
 */
export const validateArgs: ValidatorFn = (value: unknown) => {
  if (Array.isArray(value)) {
    const constrained = value.filter(isConstrainedObject);
    return constrained.length > 0 ? validateObjects(constrained) : undefined;
  }
  return isConstrainedObject(value) ? validateObjects([value]) : undefined;
};
