using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Samples;
using Microsoft.ML.DynMoE.Text;

namespace ReviewSentiment;

/// <summary>
/// Fine-tunes the pretrained all-MiniLM-L6-v2 encoder, its FFNs upcycled into DynMoE experts, to tell positive from
/// negative review sentences; evaluates it on held-out sentences beside <c>FeaturizeText</c> + SDCA on the same split,
/// shows which WordPiece tokens make the experts light up, predicts a few made-up reviews with the saved model and
/// writes a summary.
/// Usage: dotnet run --project samples/ReviewSentiment [-- --fast] [--output DIR] [--data CSV] [--config JSON]
/// </summary>
public static class Program
{
    public const string ModelFileName = "ReviewModel.mlnet";
    public const string SummaryFileName = "ReviewModel.summary.json";

    /// <summary>Made-up review sentences, not in the data; the last two need more than word counts (negation, contrast).</summary>
    public static readonly string[] MadeUpReviews =
    {
        "The battery lasts all day and the screen is gorgeous.",
        "It broke after two days and support never answered.",
        "Not bad at all, I would happily order it again.",
        "I wanted to love this place, but the food was cold and bland.",
    };

    public static int Main(string[] args) => Run(args);

    /// <summary>Runs the whole sample; returns 0 on success. <c>--fast</c> fine-tunes briefly on a few sentences (tests).</summary>
    public static int Run(string[] args) => SampleArguments.Run(args, "ReviewSentiment", "ReviewModel.mbconfig", RunSample);

    private static void RunSample(SampleConfig config, string dataPath, string outputDirectory, bool fast)
    {
        var training = config.TrainingOption;
        var mlContext = new MLContext(seed: training.Seed);
        var data = ReviewModel.LoadIDataViewFromFile(mlContext, dataPath, config.DataSource.Delimiter[0], config.DataSource.HasHeader, config.DataSource.AllowQuoting);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: training.TestFraction, seed: training.Seed);
        var trainSet = fast && training.FastTrainingRows > 0 ? mlContext.Data.TakeRows(split.TrainSet, training.FastTrainingRows) : split.TrainSet;

        var options = new DynMoEBinaryTextClassificationTrainer.Options { Seed = training.Seed, Progress = new ConsoleEpochProgress() };
        config.ApplyTo(options);
        if (fast)
        {
            options.NumberOfEpochs = training.FastNumberOfEpochs;
            if (training.FastMaximumSequenceLength > 0)
                options.MaximumSequenceLength = Math.Min(options.MaximumSequenceLength ?? 128, training.FastMaximumSequenceLength);
        }

        Console.WriteLine($"Data: {dataPath}");
        Console.WriteLine($"Task: binary text classification (positive vs negative review sentence), {1 - training.TestFraction:P0} train / {training.TestFraction:P0} test, seed {training.Seed}"
            + (fast && training.FastTrainingRows > 0 ? $", --fast: the first {training.FastTrainingRows} training sentences" : ""));
        Console.WriteLine($"Trainer: DynMoE text classifier, {options.Encoder} encoder ({config.Describe()}){(fast ? $", --fast: {options.NumberOfEpochs} epoch(s) over {options.MaximumSequenceLength} tokens" : "")}");
        Console.WriteLine();
        Console.WriteLine("Fine-tuning...");
        var stopwatch = Stopwatch.StartNew();
        var model = ReviewModel.BuildPipeline(mlContext, options).Fit(trainSet);
        double trainingSeconds = stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine($"Trained in {trainingSeconds:F1} s");

        var metrics = ReviewModel.Evaluate(mlContext, model, split.TestSet);
        var baseline = ReviewModel.Evaluate(mlContext, ReviewModel.BuildBaselinePipeline(mlContext).Fit(trainSet), split.TestSet);
        Console.WriteLine();
        Console.WriteLine($"Test metrics: accuracy {metrics.Accuracy:F4}, AUC {metrics.AreaUnderRocCurve:F4}, F1 {metrics.F1Score:F4}, log-loss {metrics.LogLoss:F4}");
        Console.WriteLine($"  FeaturizeText + SDCA on the same split: accuracy {baseline.Accuracy:F4}, AUC {baseline.AreaUnderRocCurve:F4}, log-loss {baseline.LogLoss:F4}");
        Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

        var encoder = (DynMoEEncoderTransformer)model;
        RoutingPrinter.Print(encoder.Model.Routing);
        var (report, most, fewest) = TokenRoutingPrinter.Print(model, split.TestSet, "test sentences", Name, minimumOccurrences: 10);

        string modelPath = Path.Combine(outputDirectory, ModelFileName);
        ReviewModel.SaveModel(mlContext, model, data, modelPath);
        ReviewModel.MLNetModelPath = modelPath;
        Console.WriteLine();
        Console.WriteLine("Predictions from the saved model (made-up reviews):");
        var predictions = MadeUpReviews.Select(text => ReviewModel.Predict(new ReviewModel.ModelInput { Text = text })).ToArray();
        for (int i = 0; i < MadeUpReviews.Length; i++)
            Console.WriteLine($"  {Name(predictions[i].PredictedLabel),-8} p(positive) {predictions[i].Probability:P1}  \"{MadeUpReviews[i]}\"");

        string summaryPath = Path.Combine(outputDirectory, SummaryFileName);
        File.WriteAllText(summaryPath, JsonSerializer.Serialize(new
        {
            metrics.Accuracy,
            metrics.AreaUnderRocCurve,
            metrics.F1Score,
            metrics.LogLoss,
            BaselineAreaUnderRocCurve = baseline.AreaUnderRocCurve,
            BaselineAccuracy = baseline.Accuracy,
            TrainingSeconds = trainingSeconds,
            ActiveExpertsPerLayer = encoder.Model.Routing.Layers.Select(l => l.ActiveExperts).ToArray(),
            ActivatedExpertsPerToken = report.Overall.MeanActivatedExpertsPerToken,
            ActivatedExpertsPerTokenByClass = report.ByLabel.ToDictionary(p => Name(p.Key == "true"), p => p.Value.MeanActivatedExpertsPerToken),
            MostActivatingTokens = most.ToDictionary(t => t.Token, t => t.MeanActivatedExperts),
            MadeUpReviewPositiveProbabilities = predictions.Select(p => p.Probability).ToArray(),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine();
        Console.WriteLine($"Model saved to {modelPath}");
        Console.WriteLine($"Summary saved to {summaryPath}");
    }

    private static string Name(bool positive) => positive ? ReviewModel.PositiveClass : ReviewModel.NegativeClass;
}
