using System.Globalization;

namespace ModelOps.Portal.Tracking.Query;

/// <summary>Where an operand's value lives.</summary>
public enum OperandKind
{
    Attribute,
    Metric,
    Param,
    Tag,
}

/// <summary>
/// A value a run may have: <c>metrics.&lt;key&gt;</c> (latest value), <c>params.&lt;key&gt;</c>,
/// <c>tags.&lt;key&gt;</c>, or an attribute, whose <see cref="Key"/> is its canonical lower-case name.
/// </summary>
public sealed record Operand(OperandKind Kind, string Key, int Position)
{
    public bool Equals(Operand? other) => other is not null && Kind == other.Kind && Key == other.Key;

    public override int GetHashCode() => HashCode.Combine(Kind, Key);

    public override string ToString()
    {
        var prefix = Kind switch
        {
            OperandKind.Metric => "metrics",
            OperandKind.Param => "params",
            OperandKind.Tag => "tags",
            _ => "attributes",
        };
        var bare = Key.Length > 0 && Key.All(FilterTokenizer.IsBareKeyChar);
        return $"{prefix}.{(bare ? Key : "`" + Key.Replace("`", "``", StringComparison.Ordinal) + "`")}";
    }
}

public enum PredicateOperator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Like,
    NotLike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

/// <summary>
/// A parsed, checked filter. Values are already in the form the database stores: numbers as
/// <see cref="double"/> (or <see cref="long"/> for whole numbers against integer attributes), status and
/// kind as their integer codes, times as EF Core's text form, text as <see cref="string"/>.
/// <see cref="object.ToString"/> gives a canonical rendering, fully parenthesised.
/// </summary>
public abstract record FilterExpression;

public sealed record AndExpression(IReadOnlyList<FilterExpression> Terms) : FilterExpression
{
    public override string ToString() => "(" + string.Join(" AND ", Terms) + ")";
}

public sealed record OrExpression(IReadOnlyList<FilterExpression> Terms) : FilterExpression
{
    public override string ToString() => "(" + string.Join(" OR ", Terms) + ")";
}

/// <summary>Set complement: a run matches <c>not X</c> exactly when it does not match X.</summary>
public sealed record NotExpression(FilterExpression Operand) : FilterExpression
{
    public override string ToString() => $"NOT {Operand}";
}

public sealed record Predicate(Operand Operand, PredicateOperator Operator, IReadOnlyList<object> Values) : FilterExpression
{
    /// <summary>True when a param is compared with numbers (its NumValue), false when with text.</summary>
    public bool IsNumeric => Values.Count > 0 && Values[0] is not string;

    public override string ToString()
    {
        var op = Operator switch
        {
            PredicateOperator.Equal => "=",
            PredicateOperator.NotEqual => "!=",
            PredicateOperator.Less => "<",
            PredicateOperator.LessOrEqual => "<=",
            PredicateOperator.Greater => ">",
            PredicateOperator.GreaterOrEqual => ">=",
            PredicateOperator.Like => "LIKE",
            PredicateOperator.NotLike => "NOT LIKE",
            PredicateOperator.In => "IN",
            PredicateOperator.NotIn => "NOT IN",
            PredicateOperator.IsNull => "IS NULL",
            _ => "IS NOT NULL",
        };
        return Operator switch
        {
            PredicateOperator.IsNull or PredicateOperator.IsNotNull => $"{Operand} {op}",
            PredicateOperator.In or PredicateOperator.NotIn => $"{Operand} {op} ({string.Join(", ", Values.Select(Format))})",
            _ => $"{Operand} {op} {Format(Values[0])}",
        };
    }

    private static string Format(object value) => value switch
    {
        string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>One order-by entry: an operand and its direction.</summary>
public sealed record OrderTerm(Operand Operand, bool Descending)
{
    public override string ToString() => $"{Operand} {(Descending ? "DESC" : "ASC")}";
}
