using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace ModelOps.Benchmarks.Tracking;

public sealed record IngestWindow(double StartSeconds, double Seconds, double PointsPerSecond, CpuShare Cpu);

public sealed record IngestResult(
    int ExperimentId, IReadOnlyList<int> RunIds, IReadOnlyList<int> LongRunIds,
    double CreateSeconds, CpuShare CreateCpu,
    long Points, long PlannedPoints, double IngestSeconds, CpuShare IngestCpu, IReadOnlyList<IngestWindow> Windows,
    IReadOnlyList<double> BatchLatenciesMs, bool StoppedEarly)
{
    public double PointsPerSecond => Points / IngestSeconds;
}

/// <summary>
/// Phase 1: one experiment, its runs (params in the create body), then every point through
/// log-batch with several requests in flight. The rate is total points over the phase's wall time;
/// a sampler records the same rate per window to show whether it decays as the database grows.
/// </summary>
public sealed class IngestPhase(BenchOptions options, PortalApi api, Workload workload, CpuMeter cpu)
{
    private readonly record struct Job(int Run, int FirstStep, int StepCount, int MetricCount, int TotalSteps)
    {
        public int Points => StepCount * MetricCount;
    }

    public async Task<IngestResult> RunAsync()
    {
        var experiment = await api.CreateExperimentAsync($"bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        var experimentId = experiment.GetProperty("id").GetInt32();
        var total = options.Runs + options.LongRuns;
        var ids = new int[total];

        Console.WriteLine($"[ingest] creating {options.Runs:N0} runs + {options.LongRuns} long runs ({options.Params} params each), {options.Concurrency} in flight");
        var createStart = cpu.Sample();
        var clock = Stopwatch.StartNew();
        // The long runs first, so a creation phase cut short by its limit still has them.
        var order = Enumerable.Range(options.Runs, options.LongRuns).Concat(Enumerable.Range(0, options.Runs)).ToArray();
        var createLimit = TimeSpan.FromSeconds(options.CreateLimitSeconds);
        await ForEachAsync(total, async (n, buffer) =>
        {
            if (clock.Elapsed > createLimit) return false;
            var i = order[n];
            workload.WriteCreateRun(buffer, i, longRun: i >= options.Runs);
            using var response = await api.Http.PostAsync($"/api/v1/experiments/{experimentId}/runs", PortalApi.Body(buffer.WrittenMemory));
            if (response.StatusCode != HttpStatusCode.Created)
                throw new BenchException($"create run {i}: {(int)response.StatusCode} {PortalApi.Shorten(await response.Content.ReadAsStringAsync())}");
            using var stream = await response.Content.ReadAsStreamAsync();
            using var doc = await JsonDocument.ParseAsync(stream);
            ids[i] = doc.RootElement.GetProperty("id").GetInt32();
            return true;
        });
        var createSeconds = clock.Elapsed.TotalSeconds;
        var createCpu = cpu.Sample().Since(createStart);
        var created = ids.Count(id => id != 0);
        Console.WriteLine($"[ingest] {created:N0} runs created in {createSeconds:0.0}s ({created / createSeconds:N0} runs/s); {createCpu}"
            + (created < total ? $"; STOPPED at the {options.CreateLimitSeconds}s limit, {total - created:N0} runs not created" : ""));

        var jobs = PlanJobs(ids);
        var planned = jobs.Sum(j => (long)j.Points);
        Console.WriteLine($"[ingest] logging {planned:N0} points in {jobs.Count:N0} batches of up to {options.Batch} (limit {options.IngestLimitSeconds}s)");
        long done = 0;
        var latencies = new double[jobs.Count];
        var windows = new List<IngestWindow>();
        var stop = new CancellationTokenSource();
        var ingestStart = cpu.Sample();
        clock.Restart();
        var sampler = Task.Run(async () =>
        {
            var last = ingestStart;
            long lastPoints = 0;
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.WindowSeconds));
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    var now = cpu.Sample();
                    var points = Interlocked.Read(ref done);
                    var share = now.Since(last);
                    var window = new IngestWindow((last.At - ingestStart.At).TotalSeconds, share.WallSeconds, (points - lastPoints) / share.WallSeconds, share);
                    lock (windows) windows.Add(window);
                    Console.WriteLine($"[ingest] t={window.StartSeconds + window.Seconds,5:0}s  {window.PointsPerSecond,9:N0} points/s  total {points,12:N0}  {share}");
                    (last, lastPoints) = (now, points);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var deadline = TimeSpan.FromSeconds(options.IngestLimitSeconds);
        var stoppedEarly = false;
        await ForEachAsync(jobs.Count, async (i, buffer) =>
        {
            if (clock.Elapsed > deadline)
            {
                stoppedEarly = true;
                return false;
            }
            var job = jobs[i];
            workload.WriteLogBatch(buffer, job.Run, job.FirstStep, job.StepCount, job.MetricCount, job.TotalSteps);
            var started = clock.Elapsed.TotalMilliseconds;
            using var response = await api.Http.PostAsync($"/api/v1/runs/{ids[job.Run]}/log-batch", PortalApi.Body(buffer.WrittenMemory));
            if (response.StatusCode != HttpStatusCode.NoContent)
                throw new BenchException($"log-batch {i} (run {ids[job.Run]}): {(int)response.StatusCode} {PortalApi.Shorten(await response.Content.ReadAsStringAsync())}");
            latencies[i] = clock.Elapsed.TotalMilliseconds - started;
            Interlocked.Add(ref done, job.Points);
            return true;
        });
        var seconds = clock.Elapsed.TotalSeconds;
        var ingestCpu = cpu.Sample().Since(ingestStart);
        await stop.CancelAsync();
        await sampler;
        Console.WriteLine($"[ingest] {done:N0} points in {seconds:0.0}s = {done / seconds:N0} points/s; {ingestCpu}");
        return new IngestResult(experimentId, ids[..options.Runs].Where(id => id != 0).ToArray(), ids[options.Runs..].Where(id => id != 0).ToArray(), createSeconds, createCpu,
            done, planned, seconds, ingestCpu, windows, latencies.Where(l => l > 0).ToArray(), stoppedEarly);
    }

    /// <summary>Every batch of every run; the long runs' batches are spread evenly among the others, as if they trained alongside.</summary>
    private List<Job> PlanJobs(int[] ids)
    {
        var shortJobs = Batches(Enumerable.Range(0, options.Runs).Where(i => ids[i] != 0), options.Metrics, options.Steps);
        var longJobs = Batches(Enumerable.Range(options.Runs, options.LongRuns).Where(i => ids[i] != 0), options.LongMetrics, options.LongSteps);
        var merged = new List<Job>(shortJobs.Count + longJobs.Count);
        int s = 0, l = 0;
        while (s < shortJobs.Count || l < longJobs.Count)
        {
            // Take from the long list whenever it has fallen behind its share of the merged order.
            var takeLong = l < longJobs.Count && (s >= shortJobs.Count || (double)l / longJobs.Count <= (double)s / shortJobs.Count);
            merged.Add(takeLong ? longJobs[l++] : shortJobs[s++]);
        }
        return merged;
    }

    private List<Job> Batches(IEnumerable<int> runs, int metrics, int steps)
    {
        var stepsPerBatch = Math.Max(1, options.Batch / metrics);
        var jobs = new List<Job>();
        foreach (var run in runs)
            for (var first = 0; first < steps; first += stepsPerBatch)
                jobs.Add(new Job(run, first, Math.Min(stepsPerBatch, steps - first), metrics, steps));
        return jobs;
    }

    /// <summary>Items 0..count-1 on <see cref="BenchOptions.Concurrency"/> workers, each with its own reusable body buffer; a false result stops all.</summary>
    private async Task ForEachAsync(int count, Func<int, ArrayBufferWriter<byte>, Task<bool>> body)
    {
        var next = -1;
        var stopped = false;
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            var buffer = new ArrayBufferWriter<byte>(128 * 1024);
            int i;
            while (!Volatile.Read(ref stopped) && (i = Interlocked.Increment(ref next)) < count)
            {
                buffer.ResetWrittenCount();
                try
                {
                    if (!await body(i, buffer)) Volatile.Write(ref stopped, true);
                }
                catch
                {
                    Volatile.Write(ref stopped, true); // one failure ends the phase rather than running on for minutes
                    throw;
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
    }
}
