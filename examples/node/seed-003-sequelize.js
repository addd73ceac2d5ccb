// transaction-example.js -- seed 003 ("Using Transactions with Sequelize")
// as written, on pgatomic.  Two lines differ from the lesson: the server
// (the lesson's 'test_db', 'root', 'password' is whatever DATABASE_URL
// names) and the dialect line, which puts Sequelize on pgatomic/pg.  The
// tables come from seed-003-sequelize-setup.js (the lesson assumes them).
const { Sequelize, DataTypes } = require('sequelize')
const sequelize = new Sequelize(process.env.DATABASE_URL, {
  host: 'localhost',
  dialect: 'postgres', dialectModule: require('pgatomic/pg')
})

const User = sequelize.define('User', {
  name: {
    type: DataTypes.STRING,
    allowNull: false
  },
  email: {
    type: DataTypes.STRING,
    allowNull: false,
    unique: true
  }
})

const Post = sequelize.define('Post', {
  title: {
    type: DataTypes.STRING,
    allowNull: false
  },
  content: {
    type: DataTypes.TEXT,
    allowNull: false
  }
})

User.hasMany(Post)
Post.belongsTo(User)

async function createUserAndPosts() {
  const transaction = await sequelize.transaction()

  try {
    const user = await User.create({ name: 'John Doe', email: 'john.doe@example.com' }, { transaction })
    await Post.create({ title: 'First Post', content: 'This is my first post!', userId: user.id }, { transaction })

    await transaction.commit()
    console.log('Transaction committed successfully.')
  } catch (error) {
    await transaction.rollback()
    console.error('Transaction rolled back due to an error:', error)
  } finally {
    await sequelize.close()
  }
}

createUserAndPosts()
