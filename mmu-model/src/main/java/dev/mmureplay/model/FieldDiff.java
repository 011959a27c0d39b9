package dev.mmureplay.model;

/**
 * One differing field between a predicted and a recorded effect.
 *
 * @param field     the classified field
 * @param expected  what the model predicted (rendered as the trace prints it)
 * @param actual    what the recording says
 */
public record FieldDiff(Field field, String expected, String actual) {
    @Override
    public String toString() {
        return field.fieldName() + ": expected " + expected + ", recorded " + actual;
    }
}
