using System.Text;

namespace ModelOps.Portal.Tracking.Query;

/// <summary>One column of the sort tuple: an SQL expression and its direction.</summary>
internal readonly record struct SortColumn(string Sql, bool Descending);

/// <summary>
/// Turns a checked filter and order into SQL over <c>runs r</c>. Every value and every key is a parameter.
/// Each distinct metric, param or tag gets one LEFT JOIN on its table's primary key (so a join never
/// multiplies rows), and the filter and the order use its alias.
///
/// <para>Missing values: a comparison on a LEFT JOIN's NULL is NULL, so a run without the value never
/// matches; <c>not</c> wraps its operand in <c>COALESCE(…, 0)</c> so that it is the complement (a run
/// without the value matches <c>not (params.x = 1)</c>).</para>
///
/// <para>The sort tuple puts an "is missing" flag (ascending) before every value that can be NULL, so
/// missing values come last in both directions and the keyset condition never compares with NULL.
/// A param sorts on four columns: missing, not-a-number, NumValue, Value; so numbers come first in
/// numeric order, then the other texts in text order, then runs without the param. The tuple ends with
/// <c>r.Id DESC</c> unless it already holds the id.</para>
/// </summary>
internal sealed class RunSearchSql(Runs.CostOptions? prices = null)
{
    private readonly Runs.CostOptions _prices = prices ?? new Runs.CostOptions();

    /// <summary>The SQL of an attribute; the cost is priced here, from the two seconds columns (docs/cost.md).</summary>
    private string ColumnOf(RunAttribute attribute) =>
        attribute.Name == RunAttribute.Cost ? Runs.RunCompute.CostSql("r", _prices) : attribute.Column;

    /// <summary>SQLite joins at most 64 tables; runs and experiments take two.</summary>
    public const int MaxDistinctKeys = 50;

    private readonly Dictionary<(OperandKind Kind, string Key), string> _aliases = new();
    private readonly List<string> _joins = [];
    private string? _field;

    public List<KeyValuePair<string, object>> Parameters { get; } = [];

    public string Parameter(object value)
    {
        var name = "@p" + Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Parameters.Add(new(name, value));
        return name;
    }

    /// <summary>The filter's SQL (null when there is none); its joins come first in <see cref="Joins"/>.</summary>
    public string? CompileFilter(FilterExpression? filter)
    {
        _field = null;
        var sql = filter is null ? null : Compile(filter);
        FilterJoinCount = _joins.Count;
        return sql;
    }

    public int FilterJoinCount { get; private set; }

    public IReadOnlyList<string> Joins => _joins;

    public List<SortColumn> CompileOrder(IReadOnlyList<OrderTerm> order)
    {
        var columns = new List<SortColumn>();
        for (var i = 0; i < order.Count; i++)
        {
            _field = $"orderBy[{i}]";
            var (operand, descending) = (order[i].Operand, order[i].Descending);
            if (operand.Kind == OperandKind.Attribute)
            {
                var attribute = RunAttribute.Get(operand.Key);
                var column = ColumnOf(attribute);
                if (attribute.Nullable) columns.Add(new($"({column} IS NULL)", false));
                columns.Add(new(column, descending));
                // The id is unique: nothing after it can change the order.
                if (attribute.Name == "id") return columns;
                // Equal costs (no prices set, or none at all) order by GPU time, then CPU time.
                if (attribute.Name == RunAttribute.Cost)
                {
                    columns.Add(new("r.GpuSeconds", descending));
                    columns.Add(new("r.CpuCoreSeconds", descending));
                }
                continue;
            }
            var alias = Alias(operand);
            columns.Add(new($"({alias}.Value IS NULL)", false));
            if (operand.Kind == OperandKind.Param)
            {
                columns.Add(new($"({alias}.NumValue IS NULL)", false));
                columns.Add(new($"{alias}.NumValue", descending));
            }
            columns.Add(new($"{alias}.Value", descending));
        }
        columns.Add(new("r.Id", true));
        return columns;
    }

    /// <summary>
    /// Rows strictly after <paramref name="last"/> in the order of <paramref name="columns"/>: the OR over i of
    /// "the first i-1 columns equal and column i after". Equality uses IS so a NULL equals a NULL.
    /// </summary>
    public string Keyset(IReadOnlyList<SortColumn> columns, IReadOnlyList<object?> last)
    {
        var names = last.Select(v => v is null ? "NULL" : Parameter(v)).ToList();
        var terms = new List<string>();
        for (var i = 0; i < columns.Count; i++)
        {
            var term = new StringBuilder();
            for (var j = 0; j < i; j++) term.Append(columns[j].Sql).Append(" IS ").Append(names[j]).Append(" AND ");
            term.Append(columns[i].Sql).Append(columns[i].Descending ? " < " : " > ").Append(names[i]);
            terms.Add("(" + term + ")");
        }
        return "(" + string.Join(" OR ", terms) + ")";
    }

    private string Compile(FilterExpression expression) => expression switch
    {
        AndExpression and => "(" + string.Join(" AND ", and.Terms.Select(Compile)) + ")",
        OrExpression or => "(" + string.Join(" OR ", or.Terms.Select(Compile)) + ")",
        NotExpression not => $"NOT COALESCE({Compile(not.Operand)}, 0)",
        Predicate predicate => Compile(predicate),
        _ => throw new InvalidOperationException($"Unknown filter node {expression.GetType().Name}."),
    };

    private string Compile(Predicate predicate)
    {
        var operand = predicate.Operand;
        string column;
        string presence;
        if (operand.Kind == OperandKind.Attribute)
        {
            column = presence = ColumnOf(RunAttribute.Get(operand.Key));
        }
        else
        {
            var alias = Alias(operand);
            presence = $"{alias}.Value";
            column = operand.Kind == OperandKind.Param && predicate.IsNumeric ? $"{alias}.NumValue" : presence;
        }
        return predicate.Operator switch
        {
            PredicateOperator.IsNull => $"{presence} IS NULL",
            PredicateOperator.IsNotNull => $"{presence} IS NOT NULL",
            PredicateOperator.In => $"{column} IN ({string.Join(", ", predicate.Values.Select(Parameter))})",
            PredicateOperator.NotIn => $"{column} NOT IN ({string.Join(", ", predicate.Values.Select(Parameter))})",
            _ => $"{column} {Sql(predicate.Operator)} {Parameter(predicate.Values[0])}",
        };
    }

    private static string Sql(PredicateOperator op) => op switch
    {
        PredicateOperator.Equal => "=",
        PredicateOperator.NotEqual => "<>",
        PredicateOperator.Less => "<",
        PredicateOperator.LessOrEqual => "<=",
        PredicateOperator.Greater => ">",
        PredicateOperator.GreaterOrEqual => ">=",
        PredicateOperator.Like => "LIKE",
        PredicateOperator.NotLike => "NOT LIKE",
        _ => throw new InvalidOperationException($"No binary SQL operator for {op}."),
    };

    private string Alias(Operand operand)
    {
        if (_aliases.TryGetValue((operand.Kind, operand.Key), out var alias)) return alias;
        if (_aliases.Count == MaxDistinctKeys)
        {
            throw new FilterSyntaxException(operand.Position,
                $"the search refers to more than {MaxDistinctKeys} different metrics, params and tags.", _field);
        }
        var n = _aliases.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var key = Parameter(operand.Key);
        (alias, var join) = operand.Kind switch
        {
            OperandKind.Metric => ("m" + n, $"LEFT JOIN latest_metrics m{n} ON m{n}.RunId = r.Id AND m{n}.KeyId = (SELECT Id FROM metric_keys WHERE Key = {key})"),
            OperandKind.Param => ("p" + n, $"LEFT JOIN run_params p{n} ON p{n}.RunId = r.Id AND p{n}.Key = {key}"),
            _ => ("t" + n, $"LEFT JOIN run_tags t{n} ON t{n}.RunId = r.Id AND t{n}.Key = {key}"),
        };
        _aliases.Add((operand.Kind, operand.Key), alias);
        _joins.Add(join);
        return alias;
    }
}
