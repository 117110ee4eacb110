using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.Transforms.Image;

namespace HandwrittenDigitImages;

public partial class DigitImagesModel
{
    public const int ImageHeight = 28;
    public const int ImageWidth = 28;

    /// <summary>Trains a model on an image folder (one subfolder per label) and saves it to <paramref name="outputModelPath"/>.</summary>
    public static void Train(string outputModelPath, string imageFolder, DynMoEImageClassificationTrainer.Options trainerOptions)
    {
        var mlContext = new MLContext(seed: 1);
        var data = LoadImageFolder(mlContext, imageFolder);
        var model = RetrainModel(mlContext, data, trainerOptions);
        SaveModel(mlContext, model, data, outputModelPath);
    }

    /// <summary>
    /// Lists a Model Builder image folder (one subfolder per label, the subfolder name is the label) as
    /// <see cref="ModelInput"/> rows: the images themselves are read by the pipeline.
    /// </summary>
    public static IDataView LoadImageFolder(MLContext mlContext, string folder)
    {
        // Ordered by file name, not by folder: the names number the CSV rows, which are shuffled, so any prefix holds every digit.
        var rows = Directory.GetDirectories(folder)
            .SelectMany(d => Directory.GetFiles(d, "*.png").Select(f => new ModelInput { Label = Path.GetFileName(d), ImageSource = Path.GetFullPath(f) }))
            .OrderBy(row => Path.GetFileName(row.ImageSource), StringComparer.Ordinal)
            .ToList();
        if (rows.Count == 0)
            throw new InvalidDataException($"No PNG images under '{folder}'. Expected one subfolder of images per label.");
        return mlContext.Data.LoadFromEnumerable(rows);
    }

    /// <summary>
    /// The training pipeline: each image file is loaded, resized to 28×28, turned grey and flattened into 784 pixel
    /// values (0–255, ExtractPixels' layout); the DynMoE Vision Transformer learns the digits (pixel scaling happens
    /// inside the model) and the predicted key is mapped back to the digit.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, DynMoEImageClassificationTrainer.Options trainerOptions)
    {
        trainerOptions.LabelColumnName = @"Label";
        trainerOptions.FeatureColumnName = @"Features";
        trainerOptions.ImageHeight = ImageHeight;
        trainerOptions.ImageWidth = ImageWidth;
        return mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: @"Label", inputColumnName: @"Label")
            .Append(mlContext.Transforms.LoadImages(outputColumnName: @"Image", imageFolder: null, inputColumnName: @"ImageSource"))
            .Append(mlContext.Transforms.ResizeImages(outputColumnName: @"Image", imageWidth: ImageWidth, imageHeight: ImageHeight))
            .Append(mlContext.Transforms.ConvertToGrayscale(outputColumnName: @"Image"))
            .Append(mlContext.Transforms.ExtractPixels(outputColumnName: @"Features", inputColumnName: @"Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red))
            .Append(mlContext.MulticlassClassification.Trainers.DynMoEImageClassification(trainerOptions))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(outputColumnName: @"PredictedLabel", inputColumnName: @"PredictedLabel"));
    }

    /// <summary>Fits <see cref="BuildPipeline"/> on <paramref name="trainData"/>.</summary>
    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, DynMoEImageClassificationTrainer.Options trainerOptions)
        => BuildPipeline(mlContext, trainerOptions).Fit(trainData);

    /// <summary>Saves the model with the input schema, as Model Builder does (a <c>.mlnet</c> file is an ML.NET model zip).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView data, string modelSavePath)
    {
        using var stream = File.Create(modelSavePath);
        mlContext.Model.Save(model, data.Schema, stream);
    }

    /// <summary>
    /// Writes a pixel CSV (Label, then row-major grey pixels 0–255) as PNG files in one subfolder per label, skipping
    /// files that exist; returns how many images the folder holds.
    /// </summary>
    public static int WriteImageFolder(string pixelCsv, string folder)
    {
        int count = 0;
        foreach (var line in File.ReadLines(pixelCsv).Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length != 1 + ImageHeight * ImageWidth)
                throw new InvalidDataException($"'{pixelCsv}' row {count + 1} has {cells.Length} cells; expected Label and {ImageHeight * ImageWidth} pixels.");
            string directory = Path.Combine(folder, cells[0]);
            string path = Path.Combine(directory, $"{count:D5}.png");
            count++;
            if (File.Exists(path))
                continue;
            Directory.CreateDirectory(directory);
            var rgba = new byte[ImageHeight * ImageWidth * 4];
            for (int p = 0; p < ImageHeight * ImageWidth; p++)
            {
                byte grey = byte.Parse(cells[p + 1], NumberStyles.None, CultureInfo.InvariantCulture);
                rgba[4 * p] = rgba[4 * p + 1] = rgba[4 * p + 2] = grey;
                rgba[4 * p + 3] = 255;
            }

            using var image = MLImage.CreateFromPixels(ImageWidth, ImageHeight, MLPixelFormat.Rgba32, rgba);
            image.Save(path);
        }

        return count;
    }
}
