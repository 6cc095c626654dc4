namespace ModelOps.Jobs.Scheduling;

/// <summary>
/// Which GPU each gpu-queue worker trains on. The gpu queue has one Hangfire worker per GPU, so a job
/// that starts always finds a GPU no other worker of this portal holds; the worker process then sees
/// only that GPU (<c>CUDA_VISIBLE_DEVICES</c>), as its <c>cuda:0</c>. When the portal itself runs with
/// <c>CUDA_VISIBLE_DEVICES</c> set ("2,3"), the pool hands out those devices, not the first ones.
/// </summary>
public sealed class GpuPool
{
    public const string VisibleDevicesVariable = "CUDA_VISIBLE_DEVICES";
    private readonly string[] _devices;
    private readonly bool[] _taken;

    /// <param name="count">GPUs to hand out; 0 pins nothing.</param>
    /// <param name="visibleDevices">The portal's own CUDA_VISIBLE_DEVICES (null or empty: devices 0..count-1).</param>
    public GpuPool(int count, string? visibleDevices = null)
    {
        var listed = (visibleDevices ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        _devices = Enumerable.Range(0, Math.Max(0, count)).Select(i => i < listed.Length ? listed[i] : i.ToString()).ToArray();
        _taken = new bool[_devices.Length];
    }

    public int Count => _devices.Length;

    /// <summary>The free GPU with the lowest index, held until the lease is disposed; null when none is free.</summary>
    public Lease? Rent()
    {
        lock (_taken)
        {
            var free = Array.IndexOf(_taken, false);
            if (free < 0) return null;
            _taken[free] = true;
            return new Lease(this, free, _devices[free]);
        }
    }

    private void Return(int index)
    {
        lock (_taken) _taken[index] = false;
    }

    /// <param name="Device">The value the worker gets as CUDA_VISIBLE_DEVICES.</param>
    public sealed class Lease(GpuPool pool, int index, string device) : IDisposable
    {
        private int _returned;
        public int Index { get; } = index;
        public string Device { get; } = device;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0) pool.Return(Index);
        }
    }
}
