namespace ModelOps.Engine;

/// <summary>Element types; the values match the native dtype codes.</summary>
public enum ScalarType
{
    Float32 = 0,
    Int64 = 1,
    Float64 = 2,
    Int32 = 3,
    Byte = 4,
    Bool = 5,
}

internal static class ScalarTypes
{
    internal static ScalarType Of<T>() where T : unmanaged => typeof(T) switch
    {
        var t when t == typeof(float) => ScalarType.Float32,
        var t when t == typeof(long) => ScalarType.Int64,
        var t when t == typeof(double) => ScalarType.Float64,
        var t when t == typeof(int) => ScalarType.Int32,
        var t when t == typeof(byte) => ScalarType.Byte,
        var t when t == typeof(bool) => ScalarType.Bool,
        _ => throw new NotSupportedException($"element type {typeof(T).Name} is not supported"),
    };
}
