using System;
using System.Diagnostics;
using Microsoft.ML;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// Peak RSS of a DynMoE <c>Fit</c> (1 epoch, batch 256) on 10k, 100k and 1M synthetic rows streamed from a custom
/// <see cref="IDataView"/>, each in a fresh child process, with the default 1 GiB cache budget and with a 32 MiB one.
/// </summary>
public static class MemoryScaling
{
    public static void Run()
    {
        Console.WriteLine("| Rows | Cache budget | Peak RSS (MiB) | Fit seconds |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (long budget in new[] { 1L << 30, 32L << 20 })
        {
            foreach (long rows in new[] { 10_000L, 100_000L, 1_000_000L })
            {
                var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
                foreach (string arg in Environment.GetCommandLineArgs()[1..^0])
                {
                    if (arg != "--memory")
                        start.ArgumentList.Add(arg);
                }
                start.ArgumentList.Add("--memory-child");
                start.ArgumentList.Add(rows.ToString());
                start.ArgumentList.Add(budget.ToString());
                using var child = Process.Start(start)!;
                string line = child.StandardOutput.ReadToEnd().Trim().Split('\n')[^1];
                child.WaitForExit();
                Console.WriteLine($"| {rows:N0} | {budget >> 20} MiB | {line}");
            }
        }
    }

    public static void Child(long rows, long budget)
    {
        var ml = new MLContext(seed: 1);
        var data = new SyntheticClassificationData(rows);
        var watch = Stopwatch.StartNew();
        BenchmarkModels.Trainer(ml, "DynMoE", epochs: 1, batchSize: 256, cacheBytes: budget).Fit(data);
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine($"{self.PeakWorkingSet64 / (1024.0 * 1024):F0} | {watch.Elapsed.TotalSeconds:F1} |");
    }
}
