'use strict';
// The tables seed 003 works on, made by Sequelize from the lesson's models
// (the lesson assumes they exist); with --show, prints what they hold.
const { Sequelize, DataTypes } = require('sequelize');

const sequelize = new Sequelize(process.env.DATABASE_URL, {
  dialect: 'postgres', dialectModule: require('pgatomic/pg'), logging: false,
});
const User = sequelize.define('User', {
  name: { type: DataTypes.STRING, allowNull: false },
  email: { type: DataTypes.STRING, allowNull: false, unique: true },
});
const Post = sequelize.define('Post', {
  title: { type: DataTypes.STRING, allowNull: false },
  content: { type: DataTypes.TEXT, allowNull: false },
});
User.hasMany(Post);
Post.belongsTo(User);

async function main() {
  try {
    if (process.argv.includes('--show')) {
      const users = await User.findAll({ attributes: ['id', 'name', 'email'], order: [['id', 'ASC']], raw: true });
      const posts = await Post.findAll({ attributes: ['id', 'title', 'UserId'], order: [['id', 'ASC']], raw: true });
      console.log(JSON.stringify({ users, posts }));
    } else {
      await sequelize.sync({ force: true });
    }
  } finally {
    await sequelize.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
