namespace ModelOps.Portal.Tracking.Query;

/// <summary>
/// A filter or an order-by entry that cannot be read. <see cref="Position"/> is the 1-based character
/// index of the problem in the text that was parsed; the message starts with it
/// ("Position 27: expected a value after '>'.") so it can be shown as-is as a 400's detail.
/// </summary>
public sealed class FilterSyntaxException : Exception
{
    public FilterSyntaxException(int position, string problem, string? field = null)
        : base(field is null ? $"Position {position}: {problem}" : $"{field}, position {position}: {problem}")
    {
        Position = position;
        Problem = problem;
        Field = field;
    }

    /// <summary>1-based character index of the problem; one past the end when the text ended too soon.</summary>
    public int Position { get; }

    /// <summary>The message without its position prefix.</summary>
    public string Problem { get; }

    /// <summary>Which input was parsed: null for the filter, <c>orderBy[i]</c> for an order-by entry.</summary>
    public string? Field { get; }
}
