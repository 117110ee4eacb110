using System;
using BenchmarkDotNet.Attributes;

using Microsoft.ML;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// End-to-end <c>Fit</c> wall time: DynMoE (top-any) vs the same network with top-2-of-8 gating vs a dense FFN of
/// width 128 vs LightGbm (100 trees), same epochs for the neural ones, one TorchSharp/LightGbm thread each.
/// digits: 1,797 rows, 10 epochs, batch 64. synthetic100k: 100,000 rows × 50 features, 10 classes, 1 epoch, batch 256.
/// </summary>
[Config(typeof(BenchmarkJobs.Fit))]
public class TrainingBenchmarks
{
    private MLContext _ml = null!;
    private IDataView _data = null!;

    [Params("digits", "synthetic100k")]
    public string DataSet { get; set; } = "digits";

    [Params("DynMoE", "TopK2of8", "Dense", "LightGbm")]
    public string Trainer { get; set; } = "DynMoE";

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        _data = DataSet == "digits" ? BenchmarkModels.LoadDigits(_ml) : new SyntheticClassificationData(100_000);
    }

    [Benchmark]
    public ITransformer Fit()
    {
        bool digits = DataSet == "digits";
        return BenchmarkModels.Trainer(_ml, Trainer, epochs: digits ? 10 : 1, batchSize: digits ? 64 : 256).Fit(_data);
    }

    /// <summary>
    /// <c>--fit-activation</c>: one <see cref="Fit"/> per data set and network, printing the experts each activates per
    /// token on its training data, which the time ratios depend on.
    /// </summary>
    public static void PrintActivation()
    {
        foreach (var dataSet in new[] { "digits", "synthetic100k" })
        {
            foreach (var trainer in new[] { "DynMoE", "TopK2of8" })
            {
                var run = new TrainingBenchmarks { DataSet = dataSet, Trainer = trainer };
                run.Setup();
                var model = (IDynMoEModelParameters)((ISingleFeaturePredictionTransformer<object>)run.Fit()).Model;
                Console.WriteLine($"{dataSet} {trainer}: {model.Routing.MeanActivatedExpertsPerToken:F2} experts per token");
            }
        }
    }
}
