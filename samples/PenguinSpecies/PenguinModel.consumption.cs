using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace PenguinSpecies;

public partial class PenguinModel
{
    /// <summary>Model input: one penguin (species, island, bill/flipper/mass measurements that may be missing (NaN), sex that may be empty, year).</summary>
    #region model input class
    public class ModelInput
    {
        [LoadColumn(0)]
        [ColumnName(@"Label")]
        public string Label { get; set; } = "";

        [LoadColumn(1)]
        [ColumnName(@"island")]
        public string Island { get; set; } = "";

        [LoadColumn(2)]
        [ColumnName(@"bill_length_mm")]
        public float Bill_length_mm { get; set; }

        [LoadColumn(3)]
        [ColumnName(@"bill_depth_mm")]
        public float Bill_depth_mm { get; set; }

        [LoadColumn(4)]
        [ColumnName(@"flipper_length_mm")]
        public float Flipper_length_mm { get; set; }

        [LoadColumn(5)]
        [ColumnName(@"body_mass_g")]
        public float Body_mass_g { get; set; }

        [LoadColumn(6)]
        [ColumnName(@"sex")]
        public string Sex { get; set; } = "";

        [LoadColumn(7)]
        [ColumnName(@"year")]
        public float Year { get; set; }
    }
    #endregion

    /// <summary>Model output: the featurized columns, the features, the predicted species and one probability per species.</summary>
    #region model output class
    public class ModelOutput
    {
        [ColumnName(@"Label")]
        public uint Label { get; set; }

        [ColumnName(@"island")]
        public float[] Island { get; set; } = Array.Empty<float>();

        [ColumnName(@"bill_length_mm")]
        public float Bill_length_mm { get; set; }

        [ColumnName(@"bill_depth_mm")]
        public float Bill_depth_mm { get; set; }

        [ColumnName(@"flipper_length_mm")]
        public float Flipper_length_mm { get; set; }

        [ColumnName(@"body_mass_g")]
        public float Body_mass_g { get; set; }

        [ColumnName(@"sex")]
        public float[] Sex { get; set; } = Array.Empty<float>();

        [ColumnName(@"year")]
        public float Year { get; set; }

        [ColumnName(@"Features")]
        public float[] Features { get; set; } = Array.Empty<float>();

        [ColumnName(@"PredictedLabel")]
        public string PredictedLabel { get; set; } = "";

        [ColumnName(@"Score")]
        public float[] Score { get; set; } = Array.Empty<float>();
    }
    #endregion

    /// <summary>Where <see cref="PredictEngine"/> loads the model from; set it before the first prediction.</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("PenguinModel.mlnet");

    /// <summary>
    /// Created once, on first use, thread-safely. A <see cref="PredictionEngine{TSrc,TDst}"/> itself serves one thread at a
    /// time; for a web server use <c>PredictionEnginePool</c> from Microsoft.Extensions.ML.
    /// </summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(() => CreatePredictEngine(), true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.Load(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }

    /// <summary>Predicts the species of one penguin.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Predicts one penguin and returns every species with its probability, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> PredictAllLabels(ModelInput input)
        => GetSortedScoresWithLabels(PredictEngine.Value.Predict(input));

    /// <summary>Pairs each score with its class name, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> GetSortedScoresWithLabels(ModelOutput result)
    {
        var labels = GetLabels();
        var scored = new Dictionary<string, float>();
        for (int i = 0; i < labels.Count && i < result.Score.Length; i++)
            scored[labels[i]] = result.Score[i];
        return scored.OrderByDescending(pair => pair.Value);
    }

    /// <summary>The class names, in score order: the key values of the Label column in the model's output schema.</summary>
    private static IReadOnlyList<string> GetLabels()
    {
        var labelColumn = PredictEngine.Value.OutputSchema.GetColumnOrNull(@"Label")
            ?? throw new InvalidOperationException("The model's output has no Label column.");
        VBuffer<ReadOnlyMemory<char>> keyNames = default;
        labelColumn.GetKeyValues(ref keyNames);
        return keyNames.DenseValues().Select(name => name.ToString()).ToList();
    }
}
