using System.Diagnostics;

namespace Microsoft.ML.DynMoE.Experiments.Internal
{
    /// <summary>Samples the process working set every 100 ms and keeps the maximum.</summary>
    internal sealed class PeakMemorySampler : IDisposable
    {
        private readonly Timer _timer;
        private long _peak;

        internal PeakMemorySampler()
        {
            Sample(null);
            _timer = new Timer(Sample, null, 100, 100);
        }

        internal double PeakMegaBytes
        {
            get
            {
                Sample(null);
                return Interlocked.Read(ref _peak) / (1024.0 * 1024.0);
            }
        }

        private void Sample(object? state)
        {
            using var p = Process.GetCurrentProcess();
            long ws = p.WorkingSet64;
            long cur;
            while (ws > (cur = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, ws, cur) != cur) { }
        }

        public void Dispose() => _timer.Dispose();
    }
}
