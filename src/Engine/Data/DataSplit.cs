namespace ModelOps.Engine.Data;

/// <summary>Deterministic shuffles and train/validation/test splits derived from a seed.</summary>
public static class DataSplit
{
    public static int[] Permutation(int count, long seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        // System.Random with an explicit seed uses a fixed algorithm, so orders are stable across runs.
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Shuffles 0..count-1 and cuts it into test, validation and training indices (in that order).</summary>
    public static (int[] Train, int[] Validation, int[] Test) Split(int count, double validationFraction, double testFraction, long seed)
    {
        if (validationFraction < 0 || testFraction < 0 || validationFraction + testFraction >= 1)
            throw new ArgumentException("validation and test fractions must be >= 0 and sum to less than 1");
        var order = Permutation(count, seed);
        int test = Size(count, testFraction);
        int validation = Size(count - test, validationFraction * count / Math.Max(1, count - test));
        if (count - test - validation < 1)
            throw new DatasetFormatException($"the dataset has {count} samples: too few to split into training, validation and test sets");
        return (order[(test + validation)..], order[test..(test + validation)], order[..test]);
    }

    private static int Size(int count, double fraction) =>
        fraction <= 0 ? 0 : Math.Max(1, (int)Math.Round(count * fraction, MidpointRounding.AwayFromZero));
}

/// <summary>k-fold assignments for cross-validation.</summary>
public static class Folds
{
    /// <summary>
    /// Deals <paramref name="count"/> samples into <paramref name="k"/> folds by seed. With class ids the
    /// deal is stratified: each class is shuffled and dealt round the folds in turn (continuing where the
    /// previous class stopped), so every fold holds each class in about its overall share.
    /// </summary>
    public static int[][] Assign(int count, int k, long seed, IReadOnlyList<long>? classIds = null)
    {
        if (k < 2) throw new ArgumentOutOfRangeException(nameof(k), "cross-validation needs at least 2 folds");
        if (count < k) throw new DatasetFormatException($"{k}-fold cross-validation needs at least {k} samples; the training data has {count}");
        var folds = Enumerable.Range(0, k).Select(_ => new List<int>()).ToArray();
        var order = DataSplit.Permutation(count, seed);
        IEnumerable<int> dealt = classIds is null ? order : order.OrderBy(i => classIds[i]); // OrderBy is stable: shuffled within a class
        int next = 0;
        foreach (int i in dealt) folds[next++ % k].Add(i);
        return folds.Select(f => f.ToArray()).ToArray();
    }
}
