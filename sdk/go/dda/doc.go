// DDA (Defect Detection Application) model components and their deployments on AWS IoT Greengrass v2.
package dda
