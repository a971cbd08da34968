#!/bin/bash

read -r name

echo "Hello, $name!"
echo "Your name has ${#name} characters."
