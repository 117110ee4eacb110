using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HandwrittenDigitImages;

public partial class DigitImagesModel
{
    /// <summary>Model input: an image file and, for training, its label (the name of the subfolder it is in).</summary>
    #region model input class
    public class ModelInput
    {
        [ColumnName(@"Label")]
        public string Label { get; set; } = "";

        [ColumnName(@"ImageSource")]
        public string ImageSource { get; set; } = "";
    }
    #endregion

    /// <summary>Model output: the predicted digit and one probability per digit (in the order of <see cref="GetLabels"/>).</summary>
    #region model output class
    public class ModelOutput
    {
        [ColumnName(@"PredictedLabel")]
        public string PredictedLabel { get; set; } = "";

        [ColumnName(@"Score")]
        public float[] Score { get; set; } = Array.Empty<float>();
    }
    #endregion

    /// <summary>Path of the saved model; <c>Program</c> sets it after training.</summary>
    public static string MLNetModelPath = Path.GetFullPath("DigitImagesModel.mlnet");

    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, true);

    /// <summary>Predicts the digit in one image file.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Every digit with its probability, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> PredictAllLabels(ModelInput input)
    {
        var result = PredictEngine.Value.Predict(input);
        return GetLabels(result).Zip(result.Score, (label, score) => new KeyValuePair<string, float>(label, score)).OrderByDescending(pair => pair.Value);
    }

    /// <summary>The class names in score order (the Score column's slot names).</summary>
    public static IEnumerable<string> GetLabels(ModelOutput result)
    {
        var schema = PredictEngine.Value.OutputSchema;
        DataViewSchema.Column? column = schema.GetColumnOrNull("Score") ?? throw new InvalidOperationException("The model has no Score column.");
        if (column.Value.Annotations.Schema.GetColumnOrNull("SlotNames") is null)
            throw new InvalidOperationException("The model's Score column has no slot names; map the label with MapValueToKey before training.");
        var names = new VBuffer<ReadOnlyMemory<char>>();
        column.Value.GetSlotNames(ref names);
        return names.DenseValues().Select(name => name.ToString());
    }

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.Load(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }
}
